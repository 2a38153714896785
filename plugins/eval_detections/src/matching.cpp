#include "matching.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "spotflow_tables/frame_matching.hpp"
#include "spotflow_tables/grid.hpp"

namespace eval_detections {

Match match(const std::vector<Point>& truth, const std::vector<Point>& det, double tol) {
    std::vector<int64_t> tf(truth.size()), df(det.size());
    std::vector<double> tx(truth.size()), ty(truth.size()), dx(det.size()), dy(det.size());
    for (size_t i = 0; i < truth.size(); ++i) tf[i] = truth[i].frame, tx[i] = truth[i].x, ty[i] = truth[i].y;
    for (size_t j = 0; j < det.size(); ++j) df[j] = det[j].frame, dx[j] = det[j].x, dy[j] = det[j].y;
    Match m;
    m.truth_of = spotflow::tables::match_by_frame({df, dx, dy}, {tf, tx, ty}, tol);
    for (const int64_t t : m.truth_of) m.tp += t >= 0;
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

std::vector<double> nearest_neighbour_px(const std::vector<Point>& pts, double radius) {
    std::vector<double> nn(pts.size(), std::numeric_limits<double>::infinity());
    std::map<int64_t, std::vector<int64_t>> frames;
    for (size_t i = 0; i < pts.size(); ++i) frames[pts[i].frame].push_back(static_cast<int64_t>(i));
    std::vector<double> xs(pts.size()), ys(pts.size());
    for (size_t i = 0; i < pts.size(); ++i) xs[i] = pts[i].x, ys[i] = pts[i].y;
    for (const auto& [frame, ids] : frames) {
        const spotflow::tables::PointGrid grid(xs, ys, ids, radius);
        for (const int64_t i : ids)
            grid.within(xs[static_cast<size_t>(i)], ys[static_cast<size_t>(i)], radius, [&](int64_t j, double d) {
                if (j != i) nn[static_cast<size_t>(i)] = std::min(nn[static_cast<size_t>(i)], d);
            });
    }
    return nn;
}

} // namespace eval_detections
