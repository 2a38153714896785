// The points of every track, kept by track id for drawing.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "spotflow/packet.h"

namespace figure_tracks {

struct PathPoint {
    int64_t frame;
    double x, y; // px
};

class TrackPaths {
public:
    // Adds a tracks batch (frame, x, y, track_id); rows without a position
    // are skipped. Throws PluginError naming the column or row at fault.
    void add(const spotflow_packet& packet);

    // Each track's points by frame.
    const std::map<int64_t, std::vector<PathPoint>>& sorted();

private:
    std::map<int64_t, std::vector<PathPoint>> tracks_;
    int64_t rows_ = 0;
};

} // namespace figure_tracks
