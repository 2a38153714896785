#include "lap_linker.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "spotflow_lap/assignment.hpp"
#include "spotflow_tables/grid.hpp"

namespace link_lap {
namespace {

using spotflow::lap::Candidate;

// TrackMate's alternative cost: factor x the given percentile of the
// candidate costs (the cost of leaving an end or a start unlinked).
double alternative_cost(std::vector<double> costs, const Options& o) {
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

// Solves one bipartite step: rows and columns are detection (or segment)
// indices, candidates their squared distances within `gate`. Returns
// column per row.
std::vector<int32_t> assign(size_t n_rows, size_t n_cols, const std::vector<Candidate>& cand, double gate, const Options& o) {
    // A link is taken when it costs less than leaving both ends free
    // (row + column alternative), as in the block matrix of Jaqaman 2008.
    double alt = o.alternative_cost_factor * 0.5 * gate * gate;
    if (o.percentile_alternative) {
        std::vector<double> costs(cand.size());
        for (size_t i = 0; i < cand.size(); ++i) costs[i] = cand[i].cost;
        alt = alternative_cost(std::move(costs), o);
    }
    const auto a = spotflow::lap::solve(static_cast<int32_t>(n_rows), static_cast<int32_t>(n_cols), cand,
                                        std::vector<double>(n_rows, alt), std::vector<double>(n_cols, alt));
    return a.row_to_col;
}

} // namespace

Result link(const std::vector<int64_t>& frame, const std::vector<double>& x, const std::vector<double>& y,
            const Options& o) {
    const size_t n = frame.size();
    Result res;
    res.track.assign(n, -1);
    if (n == 0) return res;

    // Detections by frame.
    std::map<int64_t, std::vector<int64_t>> by_frame;
    for (size_t i = 0; i < n; ++i) by_frame[frame[i]].push_back(static_cast<int64_t>(i));
    std::vector<const std::vector<int64_t>*> frames;
    std::vector<int64_t> frame_ids;
    for (const auto& [f, ids] : by_frame) {
        frames.push_back(&ids);
        frame_ids.push_back(f);
    }

    // Step 1: frame to frame, each consecutive pair an independent LAP.
    std::vector<int64_t> next(n, -1), prev(n, -1);
    tbb::task_arena arena(std::max(1, o.threads));
    arena.execute([&] {
        tbb::parallel_for(size_t{0}, frames.size() > 0 ? frames.size() - 1 : 0, [&](size_t k) {
            if (frame_ids[k + 1] != frame_ids[k] + 1) return; // an empty frame between: left to gap closing
            const auto& a = *frames[k];
            const auto& b = *frames[k + 1];
            const spotflow::tables::PointGrid grid(x, y, b, o.max_distance);
            std::map<int64_t, int32_t> col_of;
            for (size_t j = 0; j < b.size(); ++j) col_of[b[j]] = static_cast<int32_t>(j);
            std::vector<Candidate> cand;
            for (size_t i = 0; i < a.size(); ++i)
                grid.within(x[a[i]], y[a[i]], o.max_distance, [&](int64_t j, double d) {
                    cand.push_back({static_cast<int32_t>(i), col_of[j], d * d});
                });
            const auto r2c = assign(a.size(), b.size(), cand, o.max_distance, o);
            for (size_t i = 0; i < a.size(); ++i)
                if (r2c[i] >= 0) {
                    next[a[i]] = b[static_cast<size_t>(r2c[i])];
                    prev[b[static_cast<size_t>(r2c[i])]] = a[i];
                }
        });
    });

    // Segments: chains of frame-to-frame links.
    struct Segment { int64_t first, last; };
    std::vector<Segment> seg;
    for (int64_t f : frame_ids)
        for (int64_t i : by_frame[f])
            if (prev[i] < 0) {
                int64_t j = i;
                while (next[j] >= 0) ++res.links, j = next[j];
                seg.push_back({i, j});
            }

    // Step 2: gap closing, segment ends to later segment starts.
    std::vector<int64_t> seg_next(seg.size(), -1);
    if (o.max_gap > 0 && seg.size() > 1) {
        std::vector<int64_t> starts(seg.size());
        std::iota(starts.begin(), starts.end(), 0);
        std::vector<double> sx(seg.size()), sy(seg.size());
        for (size_t s = 0; s < seg.size(); ++s) sx[s] = x[seg[s].first], sy[s] = y[seg[s].first];
        const spotflow::tables::PointGrid grid(sx, sy, starts, o.max_gap_distance);
        std::vector<Candidate> cand;
        for (size_t e = 0; e < seg.size(); ++e) {
            const int64_t te = frame[seg[e].last];
            grid.within(x[seg[e].last], y[seg[e].last], o.max_gap_distance, [&](int64_t s, double d) {
                const int64_t dt = frame[seg[s].first] - te;
                if (dt >= 2 && dt <= o.max_gap + 1) cand.push_back({static_cast<int32_t>(e), static_cast<int32_t>(s), d * d});
            });
        }
        if (!cand.empty()) {
            const auto r2c = assign(seg.size(), seg.size(), cand, o.max_gap_distance, o);
            for (size_t e = 0; e < seg.size(); ++e)
                if (r2c[e] >= 0) seg_next[e] = r2c[e], ++res.gap_closures;
        }
    }

    // Track ids: follow segment chains from segments nobody continues.
    std::vector<bool> continued(seg.size(), false);
    for (const int64_t s : seg_next)
        if (s >= 0) continued[static_cast<size_t>(s)] = true;
    int64_t id = 0;
    for (size_t s0 = 0; s0 < seg.size(); ++s0) { // segments are in order of their first frame
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
