#include "dff.hpp"

#include <algorithm>
#include <cmath>
#include <deque>

namespace calcium_dff {
namespace {

double percentile_of(std::vector<double> v, double p) {
    // Linear interpolation between order statistics (numpy's default).
    std::sort(v.begin(), v.end());
    const double pos = p / 100.0 * static_cast<double>(v.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

double median_of(std::vector<double> v) { return percentile_of(std::move(v), 50); }

} // namespace

std::vector<std::optional<double>> baseline(const std::vector<std::optional<double>>& f, const BaselineOptions& o) {
    const int64_t n = static_cast<int64_t>(f.size());
    const int64_t half = std::max(1, o.window) / 2;
    std::vector<std::optional<double>> out(f.size());
    if (o.method == Baseline::Percentile) {
        for (int64_t i = 0; i < n; ++i) {
            if (!f[static_cast<size_t>(i)]) continue;
            std::vector<double> w;
            for (int64_t j = std::max<int64_t>(0, i - half); j <= std::min(n - 1, i + half); ++j)
                if (f[static_cast<size_t>(j)]) w.push_back(*f[static_cast<size_t>(j)]);
            out[static_cast<size_t>(i)] = percentile_of(std::move(w), o.percentile);
        }
        return out;
    }
    // Maximin over the present values: smooth (a Gaussian that renormalises
    // over present neighbours), then rolling min, then rolling max.
    std::vector<double> smooth(f.size(), std::nan(""));
    const int64_t r = static_cast<int64_t>(std::ceil(3 * o.smooth_sigma));
    for (int64_t i = 0; i < n; ++i) {
        if (!f[static_cast<size_t>(i)]) continue;
        double s = 0, w = 0;
        for (int64_t j = std::max<int64_t>(0, i - r); j <= std::min(n - 1, i + r); ++j) {
            if (!f[static_cast<size_t>(j)]) continue;
            const double g = o.smooth_sigma > 0 ? std::exp(-0.5 * std::pow((j - i) / o.smooth_sigma, 2)) : (j == i);
            s += g * *f[static_cast<size_t>(j)];
            w += g;
        }
        smooth[static_cast<size_t>(i)] = s / w;
    }
    auto rolling = [&](const std::vector<double>& v, bool take_min) {
        std::vector<double> res(v.size(), std::nan(""));
        for (int64_t i = 0; i < n; ++i) {
            if (std::isnan(v[static_cast<size_t>(i)])) continue;
            double best = v[static_cast<size_t>(i)];
            for (int64_t j = std::max<int64_t>(0, i - half); j <= std::min(n - 1, i + half); ++j) {
                const double x = v[static_cast<size_t>(j)];
                if (!std::isnan(x)) best = take_min ? std::min(best, x) : std::max(best, x);
            }
            res[static_cast<size_t>(i)] = best;
        }
        return res;
    };
    const auto mm = rolling(rolling(smooth, true), false);
    for (int64_t i = 0; i < n; ++i)
        if (f[static_cast<size_t>(i)]) out[static_cast<size_t>(i)] = mm[static_cast<size_t>(i)];
    return out;
}

std::vector<Event> detect_events(const std::vector<std::optional<double>>& dff, const EventOptions& o) {
    std::vector<double> present;
    for (const auto& v : dff)
        if (v && std::isfinite(*v)) present.push_back(*v);
    if (present.size() < 3) return {};
    const double med = median_of(present);
    std::vector<double> dev(present.size());
    for (size_t i = 0; i < present.size(); ++i) dev[i] = std::fabs(present[i] - med);
    // A floor of 1e-6 (a ΔF/F0 no measurement resolves): a noise-free trace
    // would otherwise turn rounding errors into events.
    const double sigma = std::max(1.4826 * median_of(dev), 1e-6);
    const double level = med + o.k * sigma, low = med + std::min(o.k_low, o.k) * sigma;

    const int64_t n = static_cast<int64_t>(dff.size());
    auto value_above = [&](int64_t j, double threshold) {
        const auto& v = dff[static_cast<size_t>(j)];
        return v && std::isfinite(*v) && *v > threshold;
    };
    std::vector<Event> events;
    for (int64_t i = 0; i < n;) {
        if (!value_above(i, level)) {
            ++i;
            continue;
        }
        int64_t j = i;
        while (j < n && value_above(j, level)) ++j;
        if (j - i < o.min_frames) {
            i = j;
            continue;
        }
        // Hysteresis: widen the run to where dff falls back to the low level.
        int64_t a = i, b = j - 1;
        while (a > 0 && value_above(a - 1, low)) --a;
        while (b + 1 < n && value_above(b + 1, low)) ++b;
        if (!events.empty() && a <= events.back().end + 1) {
            events.back().end = std::max(events.back().end, b); // the same transient, re-crossing k on its decay
        } else {
            events.push_back({a, a, b, *dff[static_cast<size_t>(a)]});
        }
        Event& e = events.back(); // every frame in [onset, end] has a value: all are above `low`
        e.amplitude = *dff[static_cast<size_t>(e.onset)];
        e.peak = e.onset;
        for (int64_t k = e.onset; k <= e.end; ++k)
            if (*dff[static_cast<size_t>(k)] > e.amplitude) e.amplitude = *dff[static_cast<size_t>(k)], e.peak = k;
        i = std::max(j, b + 1);
    }
    return events;
}

} // namespace calcium_dff
