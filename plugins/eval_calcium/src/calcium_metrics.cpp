#include "calcium_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "spotflow_sim/tracks.hpp"
#include "spotflow_tables/frame_matching.hpp"

namespace eval_calcium {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
double ratio(int64_t a, int64_t b) { return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : kNaN; }
bool has_shape(const TrueEvent& e) { return std::isfinite(e.amplitude) && std::isfinite(e.decay) && e.decay > 0; }
} // namespace

double true_dff(const TrueEvent& e, int64_t frame) {
    if (!has_shape(e)) return frame >= e.onset && frame <= std::max(e.end, e.peak) ? 1.0 : 0.0;
    // libs/sim's transient (the simulator's own definition of its truth).
    sim::CalciumEvent c;
    c.track_id = e.track_id;
    c.onset_frame = e.onset;
    c.peak_frame = e.peak;
    c.amplitude_dff = e.amplitude;
    c.decay_frames = e.decay;
    return sim::transient_dff(c, e.peak - e.onset, static_cast<double>(frame - e.onset));
}

bool true_active(const TrueEvent& e, int64_t frame, double active_fraction) {
    if (!has_shape(e)) return frame >= e.onset && frame <= std::max(e.end, e.peak);
    return frame >= e.onset && true_dff(e, frame) >= active_fraction * e.amplitude;
}

std::vector<int64_t> track_ids(const Points& truth) {
    std::set<int64_t> ids(truth.track_id.begin(), truth.track_id.end());
    return {ids.begin(), ids.end()};
}

Classification classify(const Points& truth, const std::vector<TrueEvent>& events,
                        const std::vector<PredictedEvent>& predicted, const Options& o) {
    std::map<int64_t, std::vector<size_t>> rows_of_frame;
    std::set<std::pair<int64_t, int64_t>> true_point; // (track, frame)
    for (size_t r = 0; r < truth.size(); ++r) {
        rows_of_frame[truth.frame[r]].push_back(r);
        true_point.insert({truth.track_id[r], truth.frame[r]});
    }
    std::map<int64_t, std::vector<const TrueEvent*>> events_of_track;
    for (const auto& e : events) events_of_track[e.track_id].push_back(&e);

    Classification c;
    c.owner.assign(predicted.size(), kNoOwner);
    std::set<std::pair<int64_t, int64_t>> called; // (track, frame) predicted active
    for (size_t k = 0; k < predicted.size(); ++k) {
        const PredictedEvent& p = predicted[k];
        // The nearest true punctum within the gate, at onset or up to 2
        // frames away (a punctum blinked off at onset).
        for (int64_t d = 0; d <= 2 && c.owner[k] == kNoOwner; ++d) {
            double best = o.gate_px;
            for (const int64_t f : {p.onset - d, p.onset + d}) {
                const auto it = rows_of_frame.find(f);
                if (it == rows_of_frame.end()) continue;
                for (const size_t r : it->second) {
                    const double dist = std::hypot(truth.x[r] - p.x, truth.y[r] - p.y);
                    if (dist <= best) {
                        best = dist;
                        c.owner[k] = truth.track_id[r];
                    }
                }
            }
        }
        const int64_t frames = std::max<int64_t>(0, p.end - p.onset + 1);
        if (c.owner[k] == kNoOwner) {
            c.spurious_frames += frames;
            continue;
        }
        for (int64_t f = p.onset; f <= p.end; ++f) called.insert({c.owner[k], f});
    }
    for (const auto& [track, frame] : called)
        if (!true_point.count({track, frame})) ++c.spurious_frames; // no true point there: nothing to be right about
    c.fp += c.spurious_frames;

    for (size_t r = 0; r < truth.size(); ++r) {
        bool active = false;
        if (const auto it = events_of_track.find(truth.track_id[r]); it != events_of_track.end())
            for (const TrueEvent* e : it->second) active = active || true_active(*e, truth.frame[r], o.active_fraction);
        const bool call = called.count({truth.track_id[r], truth.frame[r]}) > 0;
        if (active && call) ++c.tp;
        else if (active) ++c.fn;
        else if (call) ++c.fp;
        else ++c.tn;
    }
    c.sensitivity = ratio(c.tp, c.tp + c.fn);
    c.specificity = ratio(c.tn, c.tn + c.fp);
    c.precision = ratio(c.tp, c.tp + c.fp);
    c.f1 = ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn);
    c.iou = ratio(c.tp, c.tp + c.fp + c.fn);
    return c;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
    const size_t n = a.size();
    if (n < 3 || b.size() != n) return kNaN;
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; ++i) ma += a[i], mb += b[i];
    ma /= static_cast<double>(n);
    mb /= static_cast<double>(n);
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    // A series constant to rounding has no correlation.
    if (saa <= 1e-24 * static_cast<double>(n) || sbb <= 1e-24 * static_cast<double>(n)) return kNaN;
    return sab / std::sqrt(saa * sbb);
}

Correlation correlate(const Points& truth, const std::vector<TrueEvent>& events, const std::vector<double>& activity) {
    std::map<int64_t, std::vector<const TrueEvent*>> events_of_track;
    for (const auto& e : events) events_of_track[e.track_id].push_back(&e);
    std::map<int64_t, std::vector<size_t>> rows_of_track;
    for (size_t r = 0; r < truth.size(); ++r) rows_of_track[truth.track_id[r]].push_back(r);
    std::vector<double> all_true(truth.size());
    for (size_t r = 0; r < truth.size(); ++r)
        if (const auto it = events_of_track.find(truth.track_id[r]); it != events_of_track.end())
            for (const TrueEvent* e : it->second) all_true[r] += true_dff(*e, truth.frame[r]);
    Correlation c;
    double sum = 0;
    for (const auto& [id, rows] : rows_of_track) {
        std::vector<double> t, p;
        for (const size_t r : rows) t.push_back(all_true[r]), p.push_back(activity[r]);
        const double r = pearson(t, p);
        c.track_id.push_back(id);
        c.r.push_back(r);
        if (std::isfinite(r)) sum += r, ++c.puncta;
    }
    c.mean_r = c.puncta > 0 ? sum / static_cast<double>(c.puncta) : kNaN;
    c.pooled_r = pearson(all_true, activity);
    return c;
}

std::vector<double> activity_from_events(const Points& truth, const std::vector<PredictedEvent>& predicted,
                                         const std::vector<int64_t>& owner) {
    std::map<std::pair<int64_t, int64_t>, double> level; // (track, frame) -> probability
    for (size_t k = 0; k < predicted.size(); ++k) {
        if (owner[k] == kNoOwner) continue;
        for (int64_t f = predicted[k].onset; f <= predicted[k].end; ++f) {
            double& v = level[{owner[k], f}];
            v = std::max(v, predicted[k].probability);
        }
    }
    std::vector<double> a(truth.size(), 0.0);
    for (size_t r = 0; r < truth.size(); ++r)
        if (const auto it = level.find({truth.track_id[r], truth.frame[r]}); it != level.end()) a[r] = it->second;
    return a;
}

Completeness track_completeness(const Points& truth, const Points& predicted, double gate_px) {
    const spotflow::tables::FramePoints t{truth.frame, truth.x, truth.y}, p{predicted.frame, predicted.x, predicted.y};
    const std::vector<int64_t> match = spotflow::tables::match_by_frame(t, p, gate_px);
    std::map<int64_t, int64_t> length;
    std::map<int64_t, std::map<int64_t, int64_t>> covered; // true track -> predicted track -> frames
    for (size_t r = 0; r < truth.size(); ++r) {
        ++length[truth.track_id[r]];
        if (match[r] >= 0) ++covered[truth.track_id[r]][predicted.track_id[static_cast<size_t>(match[r])]];
    }
    Completeness c;
    double sum = 0;
    for (const auto& [id, n] : length) {
        int64_t best = 0;
        if (const auto it = covered.find(id); it != covered.end())
            for (const auto& [pid, k] : it->second) best = std::max(best, k);
        c.track_id.push_back(id);
        c.fraction.push_back(static_cast<double>(best) / static_cast<double>(n));
        sum += c.fraction.back();
    }
    c.mean = c.track_id.empty() ? kNaN : sum / static_cast<double>(c.track_id.size());
    return c;
}

} // namespace eval_calcium
