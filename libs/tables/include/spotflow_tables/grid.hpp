// A uniform grid over points for radius queries: building it and querying
// one point cost O(points in the 3 x 3 cells around it), so linking and
// matching grow with the number of candidate pairs, not with N^2.
#pragma once

#include <cmath>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace spotflow::tables {

class PointGrid {
public:
    // `ids[k]` is the caller's id of point (xs[ids[k]], ys[ids[k]]); `cell`
    // should be the query radius.
    PointGrid(const std::vector<double>& xs, const std::vector<double>& ys, const std::vector<int64_t>& ids, double cell)
        : xs_(xs), ys_(ys), cell_(cell > 0 ? cell : 1) {
        for (const int64_t id : ids) cells_[key(cell_of(xs[static_cast<size_t>(id)]), cell_of(ys[static_cast<size_t>(id)]))].push_back(id);
    }

    // Calls f(id, distance) for every point within `radius` of (x, y);
    // radius must not exceed the cell size.
    template <class F> void within(double x, double y, double radius, F&& f) const {
        const int64_t cx = cell_of(x), cy = cell_of(y);
        for (int64_t dy = -1; dy <= 1; ++dy)
            for (int64_t dx = -1; dx <= 1; ++dx) {
                const auto it = cells_.find(key(cx + dx, cy + dy));
                if (it == cells_.end()) continue;
                for (const int64_t id : it->second) {
                    const double d = std::hypot(xs_[static_cast<size_t>(id)] - x, ys_[static_cast<size_t>(id)] - y);
                    if (d <= radius) f(id, d);
                }
            }
    }

private:
    int64_t cell_of(double v) const { return static_cast<int64_t>(std::floor(v / cell_)); }
    static uint64_t key(int64_t cx, int64_t cy) {
        return (static_cast<uint64_t>(cx) << 32) ^ (static_cast<uint64_t>(cy) & 0xffffffffu);
    }
    const std::vector<double>& xs_;
    const std::vector<double>& ys_;
    double cell_;
    std::unordered_map<uint64_t, std::vector<int64_t>> cells_;
};

} // namespace spotflow::tables
