#include "displacement_scale.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "spotflow_tables/grid.hpp"

namespace link_lap {
namespace {

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    const size_t h = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h), v.end());
    return v[h];
}

// Median distance to the nearest other detection of the same frame, over up
// to 20 frames spread over the movie. A point with no neighbour within twice
// the mean spacing counts as that distance (a censored value: the median
// only needs to know it is large).
double median_neighbour_distance(const std::vector<std::vector<int64_t>>& frames, const std::vector<double>& x,
                                 const std::vector<double>& y) {
    std::vector<double> d;
    const size_t step = std::max<size_t>(1, frames.size() / 20);
    for (size_t k = 0; k < frames.size(); k += step) {
        const auto& f = frames[k];
        if (f.size() < 2) continue;
        double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
        for (const int64_t i : f) x0 = std::min(x0, x[i]), x1 = std::max(x1, x[i]), y0 = std::min(y0, y[i]), y1 = std::max(y1, y[i]);
        const double cell = 2 * std::sqrt(std::max(1.0, (x1 - x0) * (y1 - y0)) / static_cast<double>(f.size()));
        const spotflow::tables::PointGrid grid(x, y, f, cell);
        for (const int64_t i : f) {
            double best = cell;
            grid.within(x[i], y[i], cell, [&](int64_t j, double dist) {
                if (j != i) best = std::min(best, dist);
            });
            d.push_back(best);
        }
    }
    return median(std::move(d));
}

// For each detection of `from`, its nearest detection of `to` within r (-1: none).
std::vector<int64_t> nearest(const std::vector<int64_t>& from, const std::vector<int64_t>& to, const std::vector<double>& x,
                             const std::vector<double>& y, double r) {
    const spotflow::tables::PointGrid grid(x, y, to, r);
    std::vector<int64_t> out(from.size(), -1);
    for (size_t a = 0; a < from.size(); ++a) {
        double best = std::numeric_limits<double>::infinity();
        grid.within(x[from[a]], y[from[a]], r, [&](int64_t j, double dist) {
            if (dist < best) best = dist, out[a] = j;
        });
    }
    return out;
}

} // namespace

DisplacementScale learn_displacement_scale(const std::vector<int64_t>& frame_ids,
                                           const std::vector<std::vector<int64_t>>& frames,
                                           const std::vector<double>& x, const std::vector<double>& y,
                                           double ceiling, double fallback_disp_var, int64_t min_pairs,
                                           const std::vector<double>* log_intensity,
                                           const std::vector<uint8_t>* crowded) {
    DisplacementScale s;
    s.disp_var = s.step_var = fallback_disp_var;
    if (!(ceiling > 0)) ceiling = median_neighbour_distance(frames, x, y);
    if (!(ceiling > 0)) return s;

    // Mutual nearest neighbours of consecutive frames: a pair that each
    // side picks is almost always one punctum unless the step is of the
    // order of the spacing.
    std::vector<int64_t> next(x.size(), -1);
    std::vector<double> r2_lag1, r2_lag2, dl, dl_crowded;
    // About 200,000 detections are plenty for two medians: on larger inputs
    // only every stride-th frame triple (k, k+1, k+2) is paired, which keeps
    // the lag-2 chains.
    size_t total = 0;
    for (const auto& f : frames) total += f.size();
    const size_t stride = total > 200000 ? std::max<size_t>(3, 3 * total / 200000) : 0;
    for (size_t k = 0; k + 1 < frames.size(); ++k) {
        if (frame_ids[k + 1] != frame_ids[k] + 1) continue;
        if (stride > 0 && k % stride > 1) continue;
        const auto& a = frames[k];
        const auto& b = frames[k + 1];
        const auto fwd = nearest(a, b, x, y, ceiling);
        const auto back = nearest(b, a, x, y, ceiling);
        std::vector<int64_t> pos_in_b;
        for (size_t i = 0; i < a.size(); ++i) {
            if (fwd[i] < 0) continue;
            const auto it = std::lower_bound(b.begin(), b.end(), fwd[i]);
            if (back[static_cast<size_t>(it - b.begin())] != a[i]) continue;
            next[a[i]] = fwd[i];
            r2_lag1.push_back(std::pow(x[fwd[i]] - x[a[i]], 2) + std::pow(y[fwd[i]] - y[a[i]], 2));
            if (log_intensity) {
                const double d = std::abs((*log_intensity)[fwd[i]] - (*log_intensity)[a[i]]);
                const bool c = crowded && ((*crowded)[fwd[i]] || (*crowded)[a[i]]);
                (c ? dl_crowded : dl).push_back(d);
            }
        }
    }
    for (size_t i = 0; i < x.size(); ++i)
        if (next[i] >= 0 && next[next[i]] >= 0) {
            const int64_t k = next[next[i]];
            r2_lag2.push_back(std::pow(x[k] - x[i], 2) + std::pow(y[k] - y[i], 2));
        }
    s.pairs = static_cast<int64_t>(r2_lag1.size());
    if (s.pairs < min_pairs) return s;

    // For a 2-D Gaussian step of per-axis variance v, r^2 / v is chi^2 with
    // 2 degrees of freedom, whose median is 2 ln 2.
    const double v1 = median(std::move(r2_lag1)) / (2 * std::log(2.0));
    if (!(v1 > 0)) return s;
    s.disp_var = v1;
    s.learnt = true;
    double r = 0;
    if (static_cast<int64_t>(r2_lag2.size()) >= min_pairs) {
        const double v2 = median(std::move(r2_lag2)) / (2 * std::log(2.0));
        // lag 1 = q + 2r, lag 2 = 2q + 2r; directed drift makes lag 2 grow
        // faster than that and drives r to its floor 0.
        r = std::clamp(v1 - 0.5 * v2, 0.0, 0.45 * v1);
    }
    s.meas_var = r;
    // MAD of the difference of two measurements; 1.4826 makes it a
    // Gaussian sd; the floor keeps identical intensities usable.
    const auto mad_var = [](std::vector<double> v) {
        const double sd = 1.4826 * median(std::move(v));
        return std::max(0.5 * sd * sd, 1e-4);
    };
    const auto n_iso = static_cast<int64_t>(dl.size()), n_crowded = static_cast<int64_t>(dl_crowded.size());
    if (n_iso >= min_pairs && n_crowded >= min_pairs) {
        s.intensity_var = mad_var(std::move(dl));
        s.intensity_var_crowded = mad_var(std::move(dl_crowded));
    } else if (n_iso + n_crowded > 0) {
        dl.insert(dl.end(), dl_crowded.begin(), dl_crowded.end());
        s.intensity_var = s.intensity_var_crowded = mad_var(std::move(dl));
    }
    s.step_var = v1 - 2 * r;
    return s;
}

} // namespace link_lap
