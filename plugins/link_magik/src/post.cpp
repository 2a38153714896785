#include "post.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "spotflow_lap/assignment.hpp"

namespace magik {

namespace {

double logit(double p) {
    p = std::clamp(p, 1e-6, 1 - 1e-6);
    return std::log(p / (1 - p));
}

} // namespace

double unlinked_cost(double threshold) { return -0.5 * logit(threshold); }

void assign_pair(const std::vector<PairEdge>& cand_edges, double alt, const std::function<bool(int64_t, int64_t)>& taken,
                 const std::function<void(int64_t, int64_t)>& link) {
    std::vector<int64_t> rows, cols;
    std::map<int64_t, int32_t> row_of, col_of;
    std::vector<spotflow::lap::Candidate> cand;
    for (const PairEdge& e : cand_edges) {
        // Ends already linked at a shorter gap are taken.
        if (taken(e.src, e.dst)) continue;
        auto [ri, rnew] = row_of.try_emplace(e.src, static_cast<int32_t>(rows.size()));
        if (rnew) rows.push_back(e.src);
        auto [ci, cnew] = col_of.try_emplace(e.dst, static_cast<int32_t>(cols.size()));
        if (cnew) cols.push_back(e.dst);
        cand.push_back({ri->second, ci->second, -logit(e.probability)});
    }
    if (cand.empty()) return;
    const auto a = spotflow::lap::solve(static_cast<int32_t>(rows.size()), static_cast<int32_t>(cols.size()), cand,
                                        std::vector<double>(rows.size(), alt), std::vector<double>(cols.size(), alt));
    for (size_t i = 0; i < rows.size(); ++i)
        if (a.row_to_col[i] >= 0) link(rows[i], cols[static_cast<size_t>(a.row_to_col[i])]);
}

Links link_edges(const std::vector<int64_t>& frame, const std::vector<Edge>& edges, const std::vector<float>& probability,
                 double threshold, int threads) {
    if (probability.size() != edges.size())
        throw std::logic_error("link_edges: " + std::to_string(probability.size()) + " probabilities for " +
                               std::to_string(edges.size()) + " edges");
    const size_t n = frame.size();
    Links r;
    r.next.assign(n, -1);
    r.prev.assign(n, -1);
    r.track.assign(n, -1);

    // Kept edges by (gap, source frame): each group is one assignment.
    std::map<std::pair<int64_t, int64_t>, std::vector<size_t>> groups;
    for (size_t e = 0; e < edges.size(); ++e) {
        if (!(probability[e] >= threshold)) continue;
        const int64_t ts = frame[static_cast<size_t>(edges[e].src)], td = frame[static_cast<size_t>(edges[e].dst)];
        if (td <= ts) throw std::logic_error("link_edges: an edge does not go forward in time");
        groups[{td - ts, ts}].push_back(e);
    }
    std::vector<std::vector<std::vector<size_t>*>> by_gap; // gaps ascending
    int64_t last_gap = -1;
    for (auto& [key, list] : groups) {
        if (key.first != last_gap) by_gap.emplace_back(), last_gap = key.first;
        by_gap.back().push_back(&list);
    }

    // Taking a link must beat leaving both its ends free: the two
    // unassigned costs add up to -logit(threshold), so any edge at the
    // threshold or above is worth taking unless a better one competes.
    const double alt = unlinked_cost(threshold);
    tbb::task_arena arena(std::max(1, threads));
    for (const auto& groups_of_gap : by_gap)
        arena.execute([&] {
            // Within one gap, group (g, t) touches only sources in frame t
            // and targets in frame t + g: no two groups share a detection.
            tbb::parallel_for(size_t{0}, groups_of_gap.size(), [&](size_t k) {
                std::vector<PairEdge> cand;
                for (const size_t e : *groups_of_gap[k]) cand.push_back({edges[e].src, edges[e].dst, probability[e]});
                assign_pair(
                    cand, alt,
                    [&](int64_t s, int64_t t) { return r.next[static_cast<size_t>(s)] >= 0 || r.prev[static_cast<size_t>(t)] >= 0; },
                    [&](int64_t s, int64_t t) {
                        r.next[static_cast<size_t>(s)] = t;
                        r.prev[static_cast<size_t>(t)] = s;
                    });
            });
        });

    // Chains in order of their first detection (frame, then row).
    std::vector<int64_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = static_cast<int64_t>(i);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return frame[static_cast<size_t>(a)] < frame[static_cast<size_t>(b)]; });
    int64_t id = 0;
    for (const int64_t s : order) {
        if (r.prev[static_cast<size_t>(s)] >= 0) continue;
        for (int64_t i = s; i >= 0; i = r.next[static_cast<size_t>(i)]) {
            r.track[static_cast<size_t>(i)] = id;
            if (r.next[static_cast<size_t>(i)] >= 0) ++r.links;
        }
        ++id;
    }
    return r;
}

} // namespace magik
