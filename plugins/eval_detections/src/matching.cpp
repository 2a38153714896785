#include "matching.hpp"

#include <cmath>
#include <map>

#include "spotflow_lap/assignment.hpp"
#include "spotflow_tables/grid.hpp"

namespace eval_detections {

Match match(const std::vector<Point>& truth, const std::vector<Point>& det, double tol) {
    std::map<int64_t, std::pair<std::vector<int64_t>, std::vector<int64_t>>> frames;
    for (size_t i = 0; i < truth.size(); ++i) frames[truth[i].frame].first.push_back(static_cast<int64_t>(i));
    for (size_t j = 0; j < det.size(); ++j) frames[det[j].frame].second.push_back(static_cast<int64_t>(j));
    std::vector<double> tx(truth.size()), ty(truth.size());
    for (size_t i = 0; i < truth.size(); ++i) tx[i] = truth[i].x, ty[i] = truth[i].y;

    Match m;
    m.truth_of.assign(det.size(), -1);
    for (const auto& [f, sets] : frames) {
        const auto& [t_ids, d_ids] = sets;
        const spotflow::tables::PointGrid grid(tx, ty, t_ids, tol);
        std::map<int64_t, int32_t> col;
        for (size_t k = 0; k < t_ids.size(); ++k) col[t_ids[k]] = static_cast<int32_t>(k);
        std::vector<spotflow::lap::Candidate> cand;
        for (size_t r = 0; r < d_ids.size(); ++r) {
            const Point& d = det[static_cast<size_t>(d_ids[r])];
            grid.within(d.x, d.y, tol, [&](int64_t t, double dist) {
                if (dist < tol) cand.push_back({static_cast<int32_t>(r), col[t], dist});
            });
        }
        const auto a = spotflow::lap::solve(static_cast<int32_t>(d_ids.size()), static_cast<int32_t>(t_ids.size()), cand,
                                            std::vector<double>(d_ids.size(), tol), std::vector<double>(t_ids.size(), tol));
        for (size_t r = 0; r < d_ids.size(); ++r)
            if (a.row_to_col[r] >= 0) {
                m.truth_of[static_cast<size_t>(d_ids[r])] = t_ids[static_cast<size_t>(a.row_to_col[r])];
                ++m.tp;
            }
    }
    m.fp = static_cast<int64_t>(det.size()) - m.tp;
    m.fn = static_cast<int64_t>(truth.size()) - m.tp;
    return m;
}

Metrics metrics(const std::vector<Point>& truth, const std::vector<Point>& det, const Match& m) {
    Metrics r;
    r.tp = m.tp, r.fp = m.fp, r.fn = m.fn;
    r.precision = r.tp + r.fp > 0 ? static_cast<double>(r.tp) / static_cast<double>(r.tp + r.fp) : 0;
    r.recall = r.tp + r.fn > 0 ? static_cast<double>(r.tp) / static_cast<double>(r.tp + r.fn) : 0;
    r.f1 = r.precision + r.recall > 0 ? 2 * r.precision * r.recall / (r.precision + r.recall) : 0;
    r.jaccard = r.tp + r.fp + r.fn > 0 ? static_cast<double>(r.tp) / static_cast<double>(r.tp + r.fp + r.fn) : 0;
    double sx = 0, sy = 0, sxx = 0, syy = 0;
    for (size_t j = 0; j < det.size(); ++j) {
        const int64_t t = m.truth_of[j];
        if (t < 0) continue;
        const double dx = det[j].x - truth[static_cast<size_t>(t)].x, dy = det[j].y - truth[static_cast<size_t>(t)].y;
        sx += dx, sy += dy, sxx += dx * dx, syy += dy * dy;
    }
    if (r.tp > 0) {
        const double n = static_cast<double>(r.tp);
        r.rmse_x = std::sqrt(sxx / n), r.rmse_y = std::sqrt(syy / n), r.rmse_lateral = std::sqrt((sxx + syy) / n);
        r.bias_x = sx / n, r.bias_y = sy / n;
    }
    return r;
}

} // namespace eval_detections
