// From edge probabilities to trajectories: for each gap (1 frame first, then
// 2, ...) and each frame pair at that gap, one global one-to-one assignment
// over the edges at or above the threshold (libs/assignment), maximising the
// summed log-odds of the chosen links. A detection ends with at most one
// predecessor and one successor, which a greedy pass cannot promise without
// giving up the better global choice.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "graph.hpp"

namespace magik {

// One frame pair's assignment (the step link_edges runs per pair, and the
// streaming linker per pair as frames become final): `cand` holds the
// pair's edges at or above the threshold as (source, target, probability),
// in edge order; ends that already have a link (taken(s, t) true) are
// skipped; link(s, t) records each chosen link. `alt` is the cost of
// leaving one end free (unlinked_cost). Thread-compatible.
struct PairEdge {
    int64_t src, dst;
    float probability;
};
double unlinked_cost(double threshold);
void assign_pair(const std::vector<PairEdge>& cand, double alt, const std::function<bool(int64_t, int64_t)>& taken,
                 const std::function<void(int64_t, int64_t)>& link);

struct Links {
    std::vector<int64_t> next, prev; // per detection: its successor / predecessor row, -1 for none
    std::vector<int64_t> track;      // track id per detection, from 0 in order of first appearance
    int64_t links = 0;               // chosen edges
};

// `probability[e]` belongs to `edges[e]`; edges below `threshold` are never
// taken. Frame pairs of one gap are independent and solved on `threads`.
Links link_edges(const std::vector<int64_t>& frame, const std::vector<Edge>& edges, const std::vector<float>& probability,
                 double threshold, int threads);

} // namespace magik
