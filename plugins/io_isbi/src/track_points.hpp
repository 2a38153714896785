// Collects the points of a tracks table, batch by batch, grouped by track.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "isbi_format.hpp"
#include "spotflow/packet.h"

namespace io_isbi {

class TrackPoints {
public:
    // Adds the rows of one tracks batch: frame, x, y, track_id and optional z.
    // Rows without a position (a gap a track bridges) are skipped and
    // counted. Throws PluginError naming the column and row at fault.
    void add(const spotflow_packet& packet);

    // Every track's points by frame; throws if a track has two points in one frame.
    const std::map<int64_t, std::vector<Detection>>& sorted();

    int64_t skipped() const { return skipped_; }

private:
    std::map<int64_t, std::vector<Detection>> tracks_;
    int64_t rows_ = 0;
    int64_t skipped_ = 0;
};

} // namespace io_isbi
