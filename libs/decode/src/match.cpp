#include "spotflow_decode/match.hpp"

#include "spotflow_tables/frame_matching.hpp"

namespace decode {

Scores match_frame(const std::vector<Point>& det, const std::vector<Point>& truth, double tol,
                   std::vector<int32_t>* matched_truth) {
    // One frame: every point in frame 0.
    const std::vector<int64_t> df(det.size(), 0), tf(truth.size(), 0);
    std::vector<double> dx(det.size()), dy(det.size()), tx(truth.size()), ty(truth.size());
    for (size_t i = 0; i < det.size(); ++i) dx[i] = det[i].x, dy[i] = det[i].y;
    for (size_t j = 0; j < truth.size(); ++j) tx[j] = truth[j].x, ty[j] = truth[j].y;
    const auto matched = spotflow::tables::match_by_frame({df, dx, dy}, {tf, tx, ty}, tol);
    Scores s;
    if (matched_truth) matched_truth->assign(det.size(), -1);
    for (size_t i = 0; i < det.size(); ++i) {
        const int64_t j = matched[i];
        if (j < 0) {
            ++s.fp;
            continue;
        }
        ++s.tp;
        const double ex = dx[i] - tx[static_cast<size_t>(j)], ey = dy[i] - ty[static_cast<size_t>(j)];
        s.sum_sq += ex * ex + ey * ey;
        if (matched_truth) (*matched_truth)[i] = static_cast<int32_t>(j);
    }
    s.fn = static_cast<int64_t>(truth.size()) - s.tp;
    return s;
}

} // namespace decode
