// Tracks as the particle tracking challenge scorer sees them (eval.tracks,
// and the curation labels of tracks.metrics): one point per
// frame from the first to the last, gaps filled by linear interpolation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace spotflow::tracks {

// One row of a tracks or truth table; x and y are NaN where the table has null.
struct TrackRow {
    int64_t frame;
    double x;
    double y;
    int64_t track_id;
};

struct TrackPoint {
    double x;
    double y;
    bool real; // false: interpolated across a gap ("virtual" in the reference code)
};

struct Track {
    int64_t id = 0;
    int64_t first_frame = 0;
    std::vector<TrackPoint> points; // points[i] is at frame first_frame + i
    int64_t real_points = 0;

    int64_t span() const { return static_cast<int64_t>(points.size()); }
    int64_t last_frame() const { return first_frame + span() - 1; }
    const TrackPoint& at(int64_t frame) const { return points[static_cast<size_t>(frame - first_frame)]; }
};

struct TrackSet {
    std::vector<Track> tracks;    // ordered by id
    int64_t dropped_nan_tracks = 0; // a missing position between two present ones, or none present
    int64_t trimmed_nan_points = 0; // missing positions at either end of a track, removed
};

// Groups rows by track id and fills gaps. Missing positions are handled as the
// reference importer does: trimmed at the ends, and a track with one inside is
// dropped. Throws PluginError naming `what` for a negative frame or two rows
// of one track in one frame.
TrackSet build_tracks(std::vector<TrackRow> rows, const std::string& what);

// The tracks with at least min_points real points.
std::vector<Track> keep_min_length(std::vector<Track> tracks, int64_t min_points);

} // namespace spotflow::tracks
