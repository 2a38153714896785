#include "match.hpp"

#include "spotflow_lap/assignment.hpp"

namespace decode {

Scores match_frame(const std::vector<Point>& det, const std::vector<Point>& truth, double tol,
                   std::vector<int32_t>* matched_truth) {
    std::vector<spotflow::lap::Candidate> cand;
    for (size_t i = 0; i < det.size(); ++i)
        for (size_t j = 0; j < truth.size(); ++j) {
            const double d = std::hypot(det[i].x - truth[j].x, det[i].y - truth[j].y);
            if (d < tol) cand.push_back({static_cast<int32_t>(i), static_cast<int32_t>(j), d});
        }
    const auto a = spotflow::lap::solve(static_cast<int32_t>(det.size()), static_cast<int32_t>(truth.size()), cand,
                                        std::vector<double>(det.size(), tol), std::vector<double>(truth.size(), tol));
    Scores s;
    if (matched_truth) matched_truth->assign(det.size(), -1);
    for (size_t i = 0; i < det.size(); ++i) {
        const int32_t j = a.row_to_col[i];
        if (j < 0) {
            ++s.fp;
            continue;
        }
        ++s.tp;
        const double dx = det[i].x - truth[static_cast<size_t>(j)].x, dy = det[i].y - truth[static_cast<size_t>(j)].y;
        s.sum_sq += dx * dx + dy * dy;
        if (matched_truth) (*matched_truth)[i] = j;
    }
    s.fn = static_cast<int64_t>(truth.size()) - s.tp;
    return s;
}

} // namespace decode
