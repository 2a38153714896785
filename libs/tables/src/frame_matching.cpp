#include "spotflow_tables/frame_matching.hpp"

#include <map>
#include <utility>

#include "spotflow_lap/assignment.hpp"
#include "spotflow_tables/grid.hpp"

namespace spotflow::tables {

std::vector<int64_t> match_by_frame(const FramePoints& points, const FramePoints& reference, double gate) {
    std::map<int64_t, std::pair<std::vector<int64_t>, std::vector<int64_t>>> frames; // rows of points, of reference
    for (size_t i = 0; i < points.frame.size(); ++i) frames[points.frame[i]].first.push_back(static_cast<int64_t>(i));
    for (size_t j = 0; j < reference.frame.size(); ++j)
        frames[reference.frame[j]].second.push_back(static_cast<int64_t>(j));

    std::vector<int64_t> matched(points.frame.size(), -1);
    for (const auto& [frame, rows] : frames) {
        const auto& [p_rows, r_rows] = rows;
        if (p_rows.empty() || r_rows.empty()) continue;
        const PointGrid grid(reference.x, reference.y, r_rows, gate);
        std::map<int64_t, int32_t> col;
        for (size_t k = 0; k < r_rows.size(); ++k) col[r_rows[k]] = static_cast<int32_t>(k);
        std::vector<lap::Candidate> cand;
        for (size_t r = 0; r < p_rows.size(); ++r) {
            const auto i = static_cast<size_t>(p_rows[r]);
            grid.within(points.x[i], points.y[i], gate, [&](int64_t j, double dist) {
                if (dist < gate) cand.push_back({static_cast<int32_t>(r), col[j], dist});
            });
        }
        const auto a = lap::solve(static_cast<int32_t>(p_rows.size()), static_cast<int32_t>(r_rows.size()), cand,
                                  std::vector<double>(p_rows.size(), gate), std::vector<double>(r_rows.size(), gate));
        for (size_t r = 0; r < p_rows.size(); ++r)
            if (a.row_to_col[r] >= 0)
                matched[static_cast<size_t>(p_rows[r])] = r_rows[static_cast<size_t>(a.row_to_col[r])];
    }
    return matched;
}

} // namespace spotflow::tables
