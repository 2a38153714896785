// The particle tracking challenge's XML (Chenouard et al. 2014):
//   <root><TrackContestISBI2012 SNR=".." density=".." scenario="..">
//     <particle><detection t="0" x=".." y=".." z=".."/>...</particle>...
// t is a frame index from 0; x, y (and z) are pixel coordinates with the
// centre of the first pixel at 0, as spotflow's.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace io_isbi {

struct Detection {
    int64_t t;
    double x, y, z;
};

struct Particle {
    int64_t index; // position among the file's <particle> elements, from 0
    std::vector<Detection> detections; // by t
};

struct IsbiTracks {
    std::vector<Particle> particles; // only those kept
    int64_t trimmed = 0;             // NaN detections cut from track ends
    std::vector<int64_t> dropped;    // particles dropped for a NaN inside
    int64_t empty = 0;               // particles with no detection left
};

// Reads the file; NaN detections at the ends of a particle are trimmed and a
// particle with a NaN between valid detections is dropped, as the challenge
// scorer's reader does. Throws PluginError naming file and line.
IsbiTracks read_isbi(const std::string& path);

struct ContestAttributes {
    std::string snr, density, scenario; // written only when not empty
};

// Writes one <particle> per track (by track id), detections by t. Throws
// PluginError(SPOTFLOW_ERR_IO) if the file cannot be written.
void write_isbi(const std::string& path, const std::map<int64_t, std::vector<Detection>>& tracks,
                const ContestAttributes& attributes);

} // namespace io_isbi
