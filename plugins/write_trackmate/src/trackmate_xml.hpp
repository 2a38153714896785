// A TrackMate session file (what Fiji's "Load a TrackMate file" opens),
// following TrackMate's TmXmlWriter / TmXmlKeys / TmXmlReader.
#pragma once

#include <cstdint>
#include <string>

#include "track_table.hpp"

namespace write_trackmate {

struct Calibration {
    double pixel_size_um; // 0: unknown, positions stay in pixels
    double frame_interval_s; // 0: unknown, times stay in frames
};

struct ImageInfo {
    std::string filename; // the movie, relative to the XML's folder; may be empty
    int64_t width, height, frames; // 0: derived from the points
    double radius_px;
};

struct Written {
    int64_t spots = 0;
    int64_t tracks = 0;       // tracks with at least one edge
    int64_t lone_spots = 0;   // one-point tracks, written as spots only
};

// Throws PluginError: two points of a track in one frame (INVALID_ARGUMENT),
// or the file cannot be written (IO).
Written write_trackmate(const std::string& path, const TrackTable& table, const Calibration& cal,
                        const ImageInfo& image);

} // namespace write_trackmate
