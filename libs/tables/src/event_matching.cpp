#include "spotflow_tables/event_matching.hpp"

#include <cmath>
#include <map>
#include <stdexcept>

#include "spotflow_lap/assignment.hpp"

namespace spotflow::tables::events {

Score score(const std::vector<Event>& truth, const std::vector<Event>& pred, const Options& o) {
    // Candidates: every pair within the tolerances. Truth sorted by onset
    // keeps this to nearby onsets.
    std::multimap<int64_t, size_t> by_onset;
    for (size_t t = 0; t < truth.size(); ++t) by_onset.emplace(truth[t].onset, t);
    std::vector<spotflow::lap::Candidate> cand;
    for (size_t p = 0; p < pred.size(); ++p) {
        const auto lo = by_onset.lower_bound(pred[p].onset - o.onset_tolerance);
        const auto hi = by_onset.upper_bound(pred[p].onset + o.onset_tolerance);
        for (auto it = lo; it != hi; ++it) {
            const Event& t = truth[it->second];
            const double d = std::hypot(pred[p].x - t.x, pred[p].y - t.y);
            if (std::isfinite(d) && d > o.gate_px) continue;
            // Onset error first; the distance (scaled into the same range)
            // only breaks ties between equally timed candidates.
            const double cost = std::fabs(static_cast<double>(pred[p].onset - t.onset)) +
                                (std::isfinite(d) ? 0.5 * d / o.gate_px : 0.0);
            cand.push_back({static_cast<int32_t>(p), static_cast<int32_t>(it->second), cost});
        }
    }
    // Leaving a pair unmatched must cost more than any allowed match, so the
    // number of matches is maximised first.
    const double unmatched = static_cast<double>(o.onset_tolerance) + 1;
    const auto a = spotflow::lap::solve(static_cast<int32_t>(pred.size()), static_cast<int32_t>(truth.size()), cand,
                                        std::vector<double>(pred.size(), unmatched),
                                        std::vector<double>(truth.size(), unmatched));
    Score s;
    s.match.assign(pred.size(), -1);
    double err = 0, abs_err = 0;
    for (size_t p = 0; p < pred.size(); ++p) {
        const int32_t t = a.row_to_col[p];
        if (t < 0) continue;
        s.match[p] = t;
        ++s.tp;
        const double e = static_cast<double>(pred[p].onset - truth[static_cast<size_t>(t)].onset);
        err += e;
        abs_err += std::fabs(e);
    }
    s.fp = static_cast<int64_t>(pred.size()) - s.tp;
    s.fn = static_cast<int64_t>(truth.size()) - s.tp;
    s.precision = pred.empty() ? 0 : static_cast<double>(s.tp) / static_cast<double>(pred.size());
    s.recall = truth.empty() ? 0 : static_cast<double>(s.tp) / static_cast<double>(truth.size());
    s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0;
    if (s.tp > 0) {
        s.mean_onset_error = err / static_cast<double>(s.tp);
        s.mean_abs_onset_error = abs_err / static_cast<double>(s.tp);
    }
    return s;
}

std::vector<Event> events_of(const TableAccumulator& t, const std::string& port, const TableAccumulator* tracks) {
    std::vector<Event> out;
    if (t.rows() == 0) return out;
    try {
        const auto onset = t.ints("onset_frame");
        const bool has_xy = t.has("x") && t.has("y");
        const auto x = has_xy ? t.doubles("x") : std::vector<double>(onset.size(), std::nan(""));
        const auto y = has_xy ? t.doubles("y") : std::vector<double>(onset.size(), std::nan(""));
        const auto amp = t.has("amplitude_dff") ? t.doubles("amplitude_dff") : std::vector<double>(onset.size(), std::nan(""));
        std::map<std::pair<int64_t, int64_t>, std::pair<double, double>> where;
        std::vector<int64_t> ids;
        if (!has_xy && tracks && tracks->rows() > 0) {
            const auto tf = tracks->ints("frame"), ti = tracks->ints("track_id");
            const auto tx = tracks->doubles("x"), ty = tracks->doubles("y");
            for (size_t r = 0; r < tf.size(); ++r) where[{ti[r], tf[r]}] = {tx[r], ty[r]};
            ids = t.ints("track_id");
        }
        for (size_t r = 0; r < onset.size(); ++r) {
            Event ev{onset[r], x[r], y[r], amp[r]};
            if (!ids.empty()) {
                // The punctum may be off (blinking) at onset: take the
                // nearest frame it is seen.
                for (int64_t d = 0; d < 1000 && std::isnan(ev.x); ++d)
                    for (const int64_t f : {onset[r] - d, onset[r] + d})
                        if (const auto it = where.find({ids[r], f}); it != where.end() && std::isnan(ev.x))
                            ev.x = it->second.first, ev.y = it->second.second;
            }
            out.push_back(ev);
        }
    } catch (const std::invalid_argument& x) {
        throw std::invalid_argument(port + ": " + x.what());
    }
    return out;
}

} // namespace spotflow::tables::events
