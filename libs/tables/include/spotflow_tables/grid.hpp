// Uniform grids over points for radius queries, the one home for them:
// building one and querying a point cost O(points in the 3 x 3 cells around
// it), so linking and matching grow with the number of candidate pairs, not
// with N^2. PointGrid holds one set of points (one frame); FrameGrid holds
// the points of every frame, sorted, for queries within one frame.
// Threading: built once, then const; queries from any number of threads.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace spotflow::tables {

namespace grid_detail {
// The cell of coordinate v for pitch `cell`, and a cell's key.
inline int64_t cell_of(double v, double cell) { return static_cast<int64_t>(std::floor(v / cell)); }
inline uint64_t key(int64_t cx, int64_t cy) {
    return (static_cast<uint64_t>(cx) << 32) ^ (static_cast<uint64_t>(cy) & 0xffffffffu);
}
} // namespace grid_detail

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
    int64_t cell_of(double v) const { return grid_detail::cell_of(v, cell_); }
    static uint64_t key(int64_t cx, int64_t cy) { return grid_detail::key(cx, cy); }
    const std::vector<double>& xs_;
    const std::vector<double>& ys_;
    double cell_;
    std::unordered_map<uint64_t, std::vector<int64_t>> cells_;
};

// Points of many frames, for "which points of frame t lie strictly within r
// of (x, y)" without scanning the frame. Visits a query's points in a fixed
// order (by cell, then the caller's ref), so results do not depend on the
// input order.
class FrameGrid {
public:
    struct Point {
        int64_t frame;
        double x;
        double y;
        int64_t ref; // the caller's index (a track, a detection)
    };

    // cell: the grid pitch; queries with radius <= cell look at 3 x 3 cells.
    FrameGrid(std::vector<Point> points, double cell) : cell_(cell) {
        items_.reserve(points.size());
        for (const Point& p : points) items_.push_back({p.frame, key(p.x, p.y), p});
        std::sort(items_.begin(), items_.end(), [](const Item& a, const Item& b) {
            return std::tie(a.frame, a.cell, a.p.ref) < std::tie(b.frame, b.cell, b.p.ref);
        });
    }

    // Calls f(point, distance) for every point of `frame` strictly closer than
    // radius (<= cell) to (x, y).
    template <class F> void for_each_within(int64_t frame, double x, double y, double radius, F&& f) const {
        const int64_t cx = grid_detail::cell_of(x, cell_), cy = grid_detail::cell_of(y, cell_);
        for (int64_t dx = -1; dx <= 1; ++dx)
            for (int64_t dy = -1; dy <= 1; ++dy) {
                const int64_t k = static_cast<int64_t>(grid_detail::key(cx + dx, cy + dy));
                auto lo = std::lower_bound(items_.begin(), items_.end(), std::make_pair(frame, k), before);
                for (; lo != items_.end() && lo->frame == frame && lo->cell == k; ++lo) {
                    const double ex = lo->p.x - x, ey = lo->p.y - y;
                    const double d = std::sqrt(ex * ex + ey * ey);
                    if (d < radius) f(lo->p, d);
                }
            }
    }

private:
    struct Item {
        int64_t frame;
        int64_t cell;
        Point p;
    };
    static bool before(const Item& a, const std::pair<int64_t, int64_t>& b) {
        return std::tie(a.frame, a.cell) < std::tie(b.first, b.second);
    }
    int64_t key(double x, double y) const {
        return static_cast<int64_t>(grid_detail::key(grid_detail::cell_of(x, cell_), grid_detail::cell_of(y, cell_)));
    }

    double cell_;
    std::vector<Item> items_;
};

} // namespace spotflow::tables
