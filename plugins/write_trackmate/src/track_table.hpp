// The points of a tracks stream kept for the TrackMate writer: position,
// frame, track, and every other numeric column as an extra spot feature.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "spotflow/packet.h"

namespace write_trackmate {

struct ExtraColumn {
    std::string name;
    bool is_int;
};

struct Point {
    int64_t frame;
    double x, y, z; // px
    int64_t track;
};

class TrackTable {
public:
    // Adds one tracks batch. The first batch fixes the extra columns (numeric
    // columns other than frame, x, y, z, track_id); later batches must carry
    // them too. Rows without a position are counted, not kept. Throws
    // PluginError naming the column or row at fault.
    void add(const spotflow_packet& packet);

    const std::vector<Point>& points() const { return points_; }
    const std::vector<ExtraColumn>& extras() const { return extras_; }
    // Extra value k of point i; NaN for a missing value.
    double extra(size_t i, size_t k) const { return extra_values_[i * extras_.size() + k]; }
    int64_t skipped() const { return skipped_; }

private:
    std::vector<Point> points_;
    std::vector<ExtraColumn> extras_;
    std::vector<double> extra_values_;
    bool started_ = false;
    int64_t rows_ = 0;
    int64_t skipped_ = 0;
};

} // namespace write_trackmate
