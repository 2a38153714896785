// Per-track statistics, accumulated row by row over the whole stream
// (memory follows the number of tracks, not of points).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "spotflow/table.hpp"

namespace tracks_summary {

struct TrackStats {
    int64_t track_id;
    int64_t length;      // detections: rows with a position
    int64_t start_frame; // first frame with a detection
    int64_t end_frame;   // last frame with a detection
    int64_t duration;    // end_frame - start_frame + 1, in frames
    double mean_x, mean_y;
};

class Summary {
public:
    // Adds a tracks batch (frame, x, y, track_id). Rows without a position
    // count nowhere. Throws PluginError naming the column or row at fault.
    void add(const spotflow::TableView& table);

    // Tracks with at least one detection, by track_id.
    std::vector<TrackStats> tracks() const;

    // Tracks seen only in rows without a position.
    int64_t empty_tracks() const;

private:
    struct Acc {
        int64_t n = 0, first = 0, last = 0;
        double sx = 0, sy = 0;
    };
    std::unordered_map<int64_t, Acc> acc_;
    int64_t rows_ = 0;
};

} // namespace tracks_summary
