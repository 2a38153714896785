// From edge probabilities to trajectories: for each gap (1 frame first, then
// 2, ...) and each frame pair at that gap, one global one-to-one assignment
// over the edges at or above the threshold (libs/assignment), maximising the
// summed log-odds of the chosen links. A detection ends with at most one
// predecessor and one successor, which a greedy pass cannot promise without
// giving up the better global choice.
#pragma once

#include <cstdint>
#include <vector>

#include "graph.hpp"

namespace magik {

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
