// Points per frame in a uniform grid, for "which points of frame t lie within
// r of (x, y)" without scanning the frame.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <tuple>
#include <vector>

namespace eval_tracks {

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
        const int64_t cx = coord(x), cy = coord(y);
        for (int64_t dx = -1; dx <= 1; ++dx)
            for (int64_t dy = -1; dy <= 1; ++dy) {
                const int64_t k = pack(cx + dx, cy + dy);
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
    int64_t coord(double v) const { return static_cast<int64_t>(std::floor(v / cell_)); }
    static int64_t pack(int64_t cx, int64_t cy) {
        return static_cast<int64_t>((static_cast<uint64_t>(cx) << 32) ^ (static_cast<uint64_t>(cy) & 0xffffffffu));
    }
    int64_t key(double x, double y) const { return pack(coord(x), coord(y)); }

    double cell_;
    std::vector<Item> items_;
};

} // namespace eval_tracks
