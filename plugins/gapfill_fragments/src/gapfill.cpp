#include "gapfill.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

#include "spotflow_lap/assignment.hpp"
#include "spotflow_tables/grid.hpp"

namespace gapfill {
namespace {

struct Velocity {
    double vx = 0, vy = 0;
    double span = 0; // frames it was measured over; 0: unknown
};

// Velocity (px/frame) over the first or last `n` points of a fragment.
Velocity velocity(const Fragment& f, int n, bool at_end) {
    const size_t m = f.frame.size();
    if (m < 2) return {};
    const size_t k = std::min<size_t>(static_cast<size_t>(std::max(n, 2)), m);
    const size_t a = at_end ? m - k : 0, b = at_end ? m - 1 : k - 1;
    const double dt = static_cast<double>(f.frame[b] - f.frame[a]);
    if (dt <= 0) return {};
    return {(f.x[b] - f.x[a]) / dt, (f.y[b] - f.y[a]) / dt, dt};
}

} // namespace

double mean_step_variance(const std::vector<Fragment>& frags) {
    double sum = 0;
    int64_t count = 0;
    for (const Fragment& f : frags)
        for (size_t k = 1; k < f.frame.size(); ++k) {
            const double dt = static_cast<double>(f.frame[k] - f.frame[k - 1]);
            if (dt <= 0) continue;
            sum += (std::pow(f.x[k] - f.x[k - 1], 2) + std::pow(f.y[k] - f.y[k - 1], 2)) / dt;
            ++count;
        }
    return count > 0 && sum > 0 ? sum / static_cast<double>(count) : 1.0;
}

constexpr int64_t kMinStarts = 20;

double start_density(const std::vector<Fragment>& frags) {
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    int64_t t0 = INT64_MAX, t1 = INT64_MIN;
    for (const Fragment& f : frags) {
        if (f.frame.empty()) continue;
        t0 = std::min(t0, f.frame.front());
        t1 = std::max(t1, f.frame.back());
        for (size_t k = 0; k < f.x.size(); ++k) {
            x0 = std::min(x0, f.x[k]), x1 = std::max(x1, f.x[k]);
            y0 = std::min(y0, f.y[k]), y1 = std::max(y1, f.y[k]);
        }
    }
    if (t0 > t1) return 0;
    int64_t starts = 0;
    for (const Fragment& f : frags) starts += !f.frame.empty() && f.frame.front() > t0;
    // Too few starts to tell a density from the bounding box of a handful
    // of fragments: not learnt, the gate alone decides.
    if (starts < kMinStarts) return 0;
    // At least 1 px per side: a handful of points must not give a density
    // that refuses every join.
    const double area = std::max(1.0, x1 - x0 + 1) * std::max(1.0, y1 - y0 + 1);
    return static_cast<double>(starts) / (area * static_cast<double>(t1 - t0 + 1));
}

std::vector<int64_t> join(const std::vector<Fragment>& frags, const Options& o) {
    const size_t n = frags.size();
    const double s2 = o.step_variance > 0 ? o.step_variance : mean_step_variance(frags);
    std::vector<int64_t> next(n, -1);
    if (n < 2) return next;
    const double rho = o.birth_test ? start_density(frags) : 0.0;
    std::vector<double> sx(n), sy(n);
    std::vector<int64_t> all(n);
    std::iota(all.begin(), all.end(), 0);
    for (size_t i = 0; i < n; ++i) sx[i] = frags[i].x.front(), sy[i] = frags[i].y.front();
    const spotflow::tables::PointGrid starts(sx, sy, all, o.max_distance);

    std::vector<spotflow::lap::Candidate> cand;
    for (size_t a = 0; a < n; ++a) {
        const Fragment& fa = frags[a];
        const int64_t te = fa.frame.back();
        const auto va = velocity(fa, o.velocity_points, true);
        starts.within(fa.x.back(), fa.y.back(), o.max_distance, [&](int64_t b, double d) {
            const Fragment& fb = frags[static_cast<size_t>(b)];
            const int64_t dt = fb.frame.front() - te;
            if (dt < 1 || dt > o.max_gap + 1) return;
            // Brownian normalisation: the squared displacement over dt frames
            // has mean s^2 dt, and 2 d^2 / (s^2 dt) is chi-square(2).
            const double t = static_cast<double>(dt);
            double cost = 2 * d * d / (s2 * t);
            double var = s2 * t; // 2 x the per-axis variance of the cost's Gaussian
            const double px = fa.x.back() + va.vx * t, py = fa.y.back() + va.vy * t;
            const double miss2 = std::pow(fb.x.front() - px, 2) + std::pow(fb.y.front() - py, 2);
            // Directed motion: a punctum moving steadily covers more than
            // Brownian steps allow across a long gap, but lands where its
            // velocity says; the prediction's variance grows with dt^2 over
            // the span the velocity was measured on.
            if (o.directed && va.span > 0) {
                const double v = s2 * (t + t * t / va.span);
                if (2 * miss2 / v < cost) cost = 2 * miss2 / v, var = v;
            }
            // The birth alternative: the Gaussian's density at the start,
            // exp(-cost/2) / (pi var), times 1 / (max_gap + 1) for the gap
            // length, must beat rho: cost < -2 ln(pi var (max_gap + 1) rho).
            // Added as a penalty above the gate so that the gate still holds.
            if (rho > 0) {
                const double k = 2 * std::log(M_PI * var * static_cast<double>(o.max_gap + 1) * rho);
                cost += std::max(0.0, o.gate + k);
            }
            if (o.velocity_weight > 0) cost += o.velocity_weight * 2 * miss2 / (s2 * t);
            if (o.intensity_weight > 0 && std::isfinite(fa.intensity) && std::isfinite(fb.intensity) &&
                fa.intensity + fb.intensity > 0)
                cost += o.intensity_weight * std::pow(2 * (fa.intensity - fb.intensity) / (fa.intensity + fb.intensity), 2);
            if (cost < o.gate) cand.push_back({static_cast<int32_t>(a), static_cast<int32_t>(b), cost});
        });
    }
    if (cand.empty()) return next;
    // Leaving an end and a start both unjoined costs the gate: a join is
    // taken when its cost is below it, and competing joins are settled by
    // the global optimum.
    const double alt = o.gate / 2;
    const auto r = spotflow::lap::solve(static_cast<int32_t>(n), static_cast<int32_t>(n), cand, std::vector<double>(n, alt),
                                        std::vector<double>(n, alt));
    for (size_t a = 0; a < n; ++a) next[a] = r.row_to_col[a];
    return next;
}

} // namespace gapfill
