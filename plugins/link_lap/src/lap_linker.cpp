#include "lap_linker.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "spotflow_lap/assignment.hpp"
#include "spotflow_tables/grid.hpp"

namespace link_lap {
namespace {

using spotflow::lap::Candidate;

// TrackMate's alternative cost: factor x the given percentile of the
// candidate costs (the cost of leaving an end or a start unlinked).
double percentile_cost(std::vector<double> costs, const Options& o) {
    if (costs.empty()) return 1.0;
    // Linear interpolation between order statistics: with few candidates a
    // lower order statistic would make the cheapest link the yardstick and
    // refuse the others.
    std::sort(costs.begin(), costs.end());
    const double pos = o.cutoff_percentile * static_cast<double>(costs.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, costs.size() - 1);
    const double p = costs[lo] + (pos - static_cast<double>(lo)) * (costs[hi] - costs[lo]);
    return o.alternative_cost_factor * std::max(p, 1e-12);
}

// Solves one bipartite step. `gate_cost` is the cost of a link at the edge
// of the gate: with the cutoff rule leaving a row or a column free costs
// factor x gate_cost / 2, so a link is taken when it costs less than leaving
// both ends free (the block matrix of Jaqaman 2008). Returns column per row.
std::vector<int32_t> assign(size_t n_rows, size_t n_cols, const std::vector<Candidate>& cand, double gate_cost,
                            const Options& o) {
    double alt = o.alternative_cost_factor * 0.5 * gate_cost;
    if (o.percentile_alternative) {
        std::vector<double> costs(cand.size());
        for (size_t i = 0; i < cand.size(); ++i) costs[i] = cand[i].cost;
        alt = percentile_cost(std::move(costs), o);
    }
    const auto a = spotflow::lap::solve(static_cast<int32_t>(n_rows), static_cast<int32_t>(n_cols), cand,
                                        std::vector<double>(n_rows, alt), std::vector<double>(n_cols, alt));
    return a.row_to_col;
}

struct Frames {
    std::vector<int64_t> ids;                // frame numbers, ascending
    std::vector<std::vector<int64_t>> rows;  // detection indices per frame, ascending
};

Frames group_by_frame(const std::vector<int64_t>& frame) {
    std::map<int64_t, std::vector<int64_t>> by_frame;
    for (size_t i = 0; i < frame.size(); ++i) by_frame[frame[i]].push_back(static_cast<int64_t>(i));
    Frames f;
    for (auto& [t, ids] : by_frame) {
        f.ids.push_back(t);
        f.rows.push_back(std::move(ids));
    }
    return f;
}

struct Segment {
    int64_t first, last;
};

// 1 for a detection with another of its frame closer than r px.
std::vector<uint8_t> crowded_flags(const Frames& fr, const std::vector<double>& x, const std::vector<double>& y,
                                   double r) {
    std::vector<uint8_t> out(x.size(), 0);
    tbb::parallel_for(size_t{0}, fr.rows.size(), [&](size_t k) {
        const auto& rows = fr.rows[k];
        const spotflow::tables::PointGrid grid(x, y, rows, r);
        for (const int64_t i : rows)
            grid.within(x[i], y[i], r, [&](int64_t j, double) {
                if (j != i) out[static_cast<size_t>(i)] = 1;
            });
    });
    return out;
}

// ---- Motion::Brownian: squared distance inside a fixed gate -------------

void link_brownian(const Frames& fr, const std::vector<int64_t>& frame, const std::vector<double>& x,
                   const std::vector<double>& y, const Options& o, double gate, double gap_gate,
                   std::vector<int64_t>& next, std::vector<Segment>& seg, std::vector<int64_t>& seg_next) {
    // Frame to frame: each consecutive pair an independent LAP.
    std::vector<int64_t> prev(next.size(), -1);
    tbb::parallel_for(size_t{0}, fr.rows.size() > 0 ? fr.rows.size() - 1 : 0, [&](size_t k) {
        if (fr.ids[k + 1] != fr.ids[k] + 1) return; // an empty frame between: left to gap closing
        const auto& a = fr.rows[k];
        const auto& b = fr.rows[k + 1];
        const spotflow::tables::PointGrid grid(x, y, b, gate);
        std::vector<Candidate> cand;
        for (size_t i = 0; i < a.size(); ++i)
            grid.within(x[a[i]], y[a[i]], gate, [&](int64_t j, double d) {
                const auto col = std::lower_bound(b.begin(), b.end(), j) - b.begin();
                cand.push_back({static_cast<int32_t>(i), static_cast<int32_t>(col), d * d});
            });
        const auto r2c = assign(a.size(), b.size(), cand, gate * gate, o);
        for (size_t i = 0; i < a.size(); ++i)
            if (r2c[i] >= 0) {
                next[a[i]] = b[static_cast<size_t>(r2c[i])];
                prev[b[static_cast<size_t>(r2c[i])]] = a[i];
            }
    });
    for (const auto& rows : fr.rows)
        for (const int64_t i : rows)
            if (prev[i] < 0) {
                int64_t j = i;
                while (next[j] >= 0) j = next[j];
                seg.push_back({i, j});
            }
    seg_next.assign(seg.size(), -1);
    if (o.max_gap <= 0 || seg.size() < 2) return;
    std::vector<int64_t> starts(seg.size());
    std::iota(starts.begin(), starts.end(), 0);
    std::vector<double> sx(seg.size()), sy(seg.size());
    for (size_t s = 0; s < seg.size(); ++s) sx[s] = x[seg[s].first], sy[s] = y[seg[s].first];
    const spotflow::tables::PointGrid grid(sx, sy, starts, gap_gate);
    std::vector<Candidate> cand;
    for (size_t e = 0; e < seg.size(); ++e) {
        const int64_t te = frame[seg[e].last];
        grid.within(x[seg[e].last], y[seg[e].last], gap_gate, [&](int64_t s, double d) {
            const int64_t dt = frame[seg[s].first] - te;
            if (dt >= 2 && dt <= o.max_gap + 1) cand.push_back({static_cast<int32_t>(e), static_cast<int32_t>(s), d * d});
        });
    }
    if (cand.empty()) return;
    const auto r2c = assign(seg.size(), seg.size(), cand, gap_gate * gap_gate, o);
    for (size_t e = 0; e < seg.size(); ++e) seg_next[e] = r2c[e];
}

// ---- Kalman models: costs from each track's predicted position ----------

struct KalmanSetup {
    MotionNoise noise;
    double ref_log_det; // ln det of the reference covariance disp_var I
    double threshold;   // the gate's cost, factor-free
    const std::vector<double>* log_i = nullptr; // log intensity per detection (NaN: unknown), or none
    const std::vector<uint8_t>* crowded = nullptr; // per detection, or none
    double intensity_var = 0, intensity_var_crowded = 0;
    double var_of(int64_t j) const { return crowded && (*crowded)[static_cast<size_t>(j)] ? intensity_var_crowded : intensity_var; }
};

// Running mean of a segment's log intensity and that mean's variance
// (the sum of its detections' variances over n^2).
struct Brightness {
    double sum = 0, var_sum = 0;
    int64_t n = 0;
    void add(double l, double var) {
        if (std::isfinite(l)) sum += l, var_sum += var, ++n;
    }
    double mean() const { return sum / static_cast<double>(n); }
    double mean_var() const { return var_sum / (static_cast<double>(n) * static_cast<double>(n)); }
};

// The intensity term: squared difference of log intensities over the sum
// of their variances (a detection's, or a segment mean's, against a
// track's mean); 0 when either side is unknown.
double intensity_term(double l, double var_l, const Brightness& b) {
    if (!std::isfinite(l) || b.n == 0) return 0;
    const double v = var_l + b.mean_var();
    if (!(v > 0)) return 0;
    const double d = l - b.mean();
    return d * d / v;
}

double capped(double r, double cap) { return cap > 0 ? std::min(r, cap) : r; }

void link_kalman(const Frames& fr, const std::vector<int64_t>& frame, const std::vector<double>& x,
                 const std::vector<double>& y, const Options& o, const KalmanSetup& k, std::vector<int64_t>& next,
                 std::vector<Segment>& seg, std::vector<int64_t>& seg_next, double& max_radius) {
    // The gate's cost including the factor: what a link may cost at most when
    // only the cutoff decides.
    const double gate = o.alternative_cost_factor * k.threshold;
    std::vector<TrackFilter> filter;
    std::vector<Brightness> bright;
    const auto log_i = [&](int64_t j) { return k.log_i ? (*k.log_i)[static_cast<size_t>(j)] : std::nan(""); };
    std::vector<int32_t> active; // segments whose last detection is in the previous frame

    for (size_t f = 0; f < fr.rows.size(); ++f) {
        const auto& b = fr.rows[f];
        std::vector<bool> taken(b.size(), false);
        if (f > 0 && fr.ids[f] == fr.ids[f - 1] + 1 && !active.empty() && !b.empty()) {
            // Rows: the live tracks, each predicted one frame on; columns:
            // this frame's detections.
            std::vector<Prediction> pred(active.size());
            std::vector<double> radius(active.size());
            tbb::parallel_for(size_t{0}, active.size(), [&](size_t i) {
                const auto& tf = filter[static_cast<size_t>(active[i])];
                pred[i] = tf.predict(1);
                radius[i] = capped(search_radius(pred[i], tf.x(), tf.y(), gate, k.ref_log_det), o.max_distance);
            });
            const double cell = std::max(1e-3, *std::max_element(radius.begin(), radius.end()));
            max_radius = std::max(max_radius, cell);
            const spotflow::tables::PointGrid grid(x, y, b, cell);
            std::vector<std::vector<Candidate>> per_row(active.size());
            tbb::parallel_for(size_t{0}, active.size(), [&](size_t i) {
                const auto& tf = filter[static_cast<size_t>(active[i])];
                const auto& br = bright[static_cast<size_t>(active[i])];
                grid.within(tf.x(), tf.y(), radius[i], [&](int64_t j, double) {
                    const double c = link_cost(pred[i], x[j], y[j], k.ref_log_det) +
                                     (k.log_i ? intensity_term(log_i(j), k.var_of(j), br) : 0.0);
                    if (c < gate) {
                        const auto col = std::lower_bound(b.begin(), b.end(), j) - b.begin();
                        per_row[i].push_back({static_cast<int32_t>(i), static_cast<int32_t>(col), c});
                    }
                });
            });
            std::vector<Candidate> cand;
            for (auto& r : per_row) cand.insert(cand.end(), r.begin(), r.end());
            const auto r2c = assign(active.size(), b.size(), cand, k.threshold, o);
            tbb::parallel_for(size_t{0}, active.size(), [&](size_t i) {
                if (r2c[i] < 0) return;
                const int64_t j = b[static_cast<size_t>(r2c[i])];
                auto& s = seg[static_cast<size_t>(active[i])];
                next[s.last] = j;
                s.last = j;
                filter[static_cast<size_t>(active[i])].update(pred[i], x[j], y[j]);
                bright[static_cast<size_t>(active[i])].add(log_i(j), k.var_of(j));
            });
            std::vector<int32_t> still;
            for (size_t i = 0; i < active.size(); ++i)
                if (r2c[i] >= 0) taken[static_cast<size_t>(r2c[i])] = true, still.push_back(active[i]);
            active.swap(still);
        } else {
            active.clear();
        }
        for (size_t j = 0; j < b.size(); ++j)
            if (!taken[j]) {
                active.push_back(static_cast<int32_t>(seg.size()));
                seg.push_back({b[j], b[j]});
                filter.emplace_back(o.motion, k.noise, x[b[j]], y[b[j]]);
                bright.emplace_back().add(log_i(b[j]), k.var_of(b[j]));
            }
    }

    // Gap closing: each segment's end predicted over the gap (the covariance,
    // and so the gate, grows with it) against later segments' starts.
    seg_next.assign(seg.size(), -1);
    if (o.max_gap <= 0 || seg.size() < 2) return;
    const int G = o.max_gap;
    std::vector<std::vector<Prediction>> pred(seg.size());
    std::vector<double> radius(seg.size());
    tbb::parallel_for(size_t{0}, seg.size(), [&](size_t e) {
        pred[e].resize(static_cast<size_t>(G));
        double r = 0;
        for (int dt = 2; dt <= G + 1; ++dt) {
            auto& p = pred[e][static_cast<size_t>(dt - 2)];
            p = filter[e].predict(dt);
            r = std::max(r, search_radius(p, filter[e].x(), filter[e].y(), gate, k.ref_log_det));
        }
        radius[e] = capped(r, o.max_gap_distance);
    });
    std::vector<int64_t> starts(seg.size());
    std::iota(starts.begin(), starts.end(), 0);
    std::vector<double> sx(seg.size()), sy(seg.size());
    for (size_t s = 0; s < seg.size(); ++s) sx[s] = x[seg[s].first], sy[s] = y[seg[s].first];
    const double cell = std::max(1e-3, *std::max_element(radius.begin(), radius.end()));
    const spotflow::tables::PointGrid grid(sx, sy, starts, cell);
    std::vector<std::vector<Candidate>> per_end(seg.size());
    tbb::parallel_for(size_t{0}, seg.size(), [&](size_t e) {
        const int64_t te = frame[seg[e].last];
        grid.within(filter[e].x(), filter[e].y(), radius[e], [&](int64_t s, double) {
            const int64_t dt = frame[seg[s].first] - te;
            if (dt < 2 || dt > G + 1) return;
            const auto& bs = bright[static_cast<size_t>(s)];
            const double c = link_cost(pred[e][static_cast<size_t>(dt - 2)], sx[s], sy[s], k.ref_log_det) +
                             (k.log_i && bs.n > 0 ? intensity_term(bs.mean(), bs.mean_var(), bright[e]) : 0.0);
            if (c < gate) per_end[e].push_back({static_cast<int32_t>(e), static_cast<int32_t>(s), c});
        });
    });
    std::vector<Candidate> cand;
    for (auto& r : per_end) cand.insert(cand.end(), r.begin(), r.end());
    if (cand.empty()) return;
    const auto r2c = assign(seg.size(), seg.size(), cand, k.threshold, o);
    for (size_t e = 0; e < seg.size(); ++e) seg_next[e] = r2c[e];
}

} // namespace

Result link(const std::vector<int64_t>& frame, const std::vector<double>& x, const std::vector<double>& y,
            const Options& o, const std::vector<double>* intensity) {
    const size_t n = frame.size();
    if (x.size() != n || y.size() != n || (intensity && intensity->size() != n))
        throw std::invalid_argument("frame, x, y and intensity have different lengths");
    std::vector<double> log_i;
    const bool with_i = intensity && o.use_intensity && o.motion != Motion::Brownian;
    if (with_i) {
        log_i.resize(n);
        for (size_t i = 0; i < n; ++i) {
            const double v = (*intensity)[i];
            log_i[i] = std::isfinite(v) ? std::log(std::max(v, 1.0)) : std::nan("");
        }
    }
    for (size_t i = 0; i < n; ++i)
        if (!std::isfinite(x[i]) || !std::isfinite(y[i]))
            throw std::invalid_argument("row " + std::to_string(i) + " (frame " + std::to_string(frame[i]) +
                                        ") has a non-finite x or y");
    Result res;
    res.track.assign(n, -1);
    if (n == 0) return res;
    const Frames fr = group_by_frame(frame);
    tbb::task_arena arena(std::max(1, o.threads));
    std::vector<uint8_t> crowded;
    if (with_i && o.crowding_radius > 0) arena.execute([&] { crowded = crowded_flags(fr, x, y, o.crowding_radius); });

    // The displacement scale: learnt unless every gate is stated. Without
    // enough pairs, a stated gate or 1 px per axis stands in.
    const bool fixed = o.motion == Motion::Brownian && o.max_distance > 0 && (o.max_gap <= 0 || o.max_gap_distance > 0);
    const double fallback = o.max_distance > 0 ? std::pow(o.max_distance / o.gate_sigma, 2) / 2 : 1.0;
    if (!fixed)
        res.scale = learn_displacement_scale(fr.ids, fr.rows, x, y, o.max_distance, fallback, 10,
                                             with_i ? &log_i : nullptr, crowded.empty() ? nullptr : &crowded);

    std::vector<int64_t> next(n, -1), seg_next;
    std::vector<Segment> seg;
    arena.execute([&] {
        if (o.motion == Motion::Brownian) {
            // The learnt gate: gate_sigma x the rms 2-D displacement, and for
            // gaps that of max_gap + 1 frames of motion.
            const double rms = std::sqrt(2 * res.scale.disp_var);
            const double gate = o.max_distance > 0 ? o.max_distance : std::max(o.min_radius, o.gate_sigma * rms);
            const double gap_gate = o.max_gap_distance > 0
                                        ? o.max_gap_distance
                                        : std::max(o.min_radius, o.gate_sigma * std::sqrt(2 * (res.scale.step_var * (o.max_gap + 1) +
                                                                                            2 * res.scale.meas_var)));
            res.max_search_radius = gate;
            link_brownian(fr, frame, x, y, o, gate, gap_gate, next, seg, seg_next);
        } else {
            KalmanSetup k;
            k.noise.step_var = res.scale.step_var;
            k.noise.meas_var = res.scale.meas_var;
            // A new track's velocity is of the order of one step; directed
            // velocities change slowly compared with the diffusion.
            k.noise.velocity_var = res.scale.disp_var;
            k.noise.velocity_step_var = 0.05 * res.scale.disp_var;
            // min_radius is reached at the gate: gate_sigma sqrt(2 floor) = min_radius.
            k.noise.cov_floor = std::pow(o.min_radius / o.gate_sigma, 2) / 2;
            k.ref_log_det = 2 * std::log(std::max(res.scale.disp_var, k.noise.cov_floor));
            k.threshold = 2 * o.gate_sigma * o.gate_sigma;
            if (with_i && res.scale.intensity_var > 0) {
                k.log_i = &log_i;
                k.intensity_var = res.scale.intensity_var;
                k.intensity_var_crowded = res.scale.intensity_var_crowded;
                if (!crowded.empty()) k.crowded = &crowded;
                // One more degree of freedom: chi^2_3 at chi^2_2's tail
                // probability for the gate (2 g^2 = 18: 18 -> 20.7).
                k.threshold += 2.7 * o.gate_sigma * o.gate_sigma / 9;
            }
            link_kalman(fr, frame, x, y, o, k, next, seg, seg_next, res.max_search_radius);
        }
    });
    for (const auto& s : seg) {
        for (int64_t i = s.first; i != s.last; i = next[i]) ++res.links;
    }
    for (const int64_t s : seg_next) res.gap_closures += s >= 0;

    // Track ids: follow segment chains from segments nobody continues, in
    // order of their first frame.
    std::vector<size_t> order(seg.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return std::make_pair(frame[seg[a].first], seg[a].first) < std::make_pair(frame[seg[b].first], seg[b].first);
    });
    std::vector<bool> continued(seg.size(), false);
    for (const int64_t s : seg_next)
        if (s >= 0) continued[static_cast<size_t>(s)] = true;
    int64_t id = 0;
    for (const size_t s0 : order) {
        if (continued[s0]) continue;
        for (int64_t s = static_cast<int64_t>(s0); s >= 0; s = seg_next[static_cast<size_t>(s)])
            for (int64_t i = seg[static_cast<size_t>(s)].first;; i = next[i]) {
                res.track[i] = id;
                if (i == seg[static_cast<size_t>(s)].last) break;
            }
        ++id;
    }
    return res;
}

} // namespace link_lap
