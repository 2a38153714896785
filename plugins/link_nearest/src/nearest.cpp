#include "nearest.hpp"

#include <algorithm>
#include <numeric>
#include <tuple>

#include "spotflow_tables/grid.hpp"

namespace link_nearest {

std::vector<int64_t> link(const std::vector<int64_t>& frame, const std::vector<double>& x, const std::vector<double>& y,
                          const Options& o) {
    const size_t n = frame.size();
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return frame[a] < frame[b]; });

    std::vector<int64_t> track(n, -1);
    struct End { int64_t track, row; };
    std::vector<End> ends; // live track ends
    int64_t next_id = 0;
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo;
        while (hi < n && frame[order[hi]] == frame[order[lo]]) ++hi;
        const int64_t f = frame[order[lo]];
        // Ends that can no longer be continued retire.
        ends.erase(std::remove_if(ends.begin(), ends.end(), [&](const End& e) { return f - frame[e.row] > o.max_gap + 1; }),
                   ends.end());
        const std::vector<int64_t> here(order.begin() + static_cast<std::ptrdiff_t>(lo), order.begin() + static_cast<std::ptrdiff_t>(hi));
        const spotflow::tables::PointGrid grid(x, y, here, o.max_distance);
        std::vector<std::tuple<double, size_t, int64_t>> pairs; // distance, end index, detection
        for (size_t e = 0; e < ends.size(); ++e)
            grid.within(x[ends[e].row], y[ends[e].row], o.max_distance,
                        [&](int64_t j, double d) { pairs.emplace_back(d, e, j); });
        std::sort(pairs.begin(), pairs.end());
        std::vector<bool> end_used(ends.size(), false);
        for (const auto& [d, e, j] : pairs) {
            if (end_used[e] || track[j] >= 0) continue;
            end_used[e] = true;
            track[j] = ends[e].track;
            ends[e].row = j;
        }
        for (const int64_t j : here)
            if (track[j] < 0) {
                track[j] = next_id++;
                ends.push_back({track[j], j});
            }
        lo = hi;
    }
    return track;
}

} // namespace link_nearest
