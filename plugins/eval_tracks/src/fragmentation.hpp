// The seed pipeline's fragmentation: into how many predicted tracks each
// ground-truth track is broken (README.md, "Fragmentation").
#pragma once

#include <cstdint>
#include <vector>

#include "tracks.hpp"

namespace eval_tracks {

struct GtCoverage {
    int64_t gt_track_id = 0;
    int64_t length = 0;          // real ground-truth points
    int64_t matched_points = 0;  // of those, matched to a predicted detection
    std::vector<int64_t> predicted_track_ids; // distinct, ascending
};

struct Fragmentation {
    std::vector<GtCoverage> per_gt; // in the order of the ground-truth tracks
    int64_t covered_gt_tracks = 0;  // with at least one predicted track
    double mean = 0;                // over covered tracks; NaN if none
};

// Per frame, real ground-truth points and real predicted points are matched
// one to one at minimum cost: a pair closer than gate costs its distance, an
// unmatched point of either side costs gate.
Fragmentation measure_fragmentation(const std::vector<Track>& gt, const std::vector<Track>& predicted, double gate);

} // namespace eval_tracks
