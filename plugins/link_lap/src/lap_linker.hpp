// LAP linking in the u-track / TrackMate style (Jaqaman et al. 2008):
// frame-to-frame global assignment, then a second global assignment over
// segment ends and starts to close gaps.
//
// Merging and splitting would enter the second step as further candidate
// columns (a segment start joining the middle of another segment) and rows;
// the segment bookkeeping below keeps each segment's points so that those
// candidates can be added without changing the first step.
#pragma once

#include <cstdint>
#include <vector>

namespace link_lap {

struct Options {
    double max_distance = 5.0;           // px, frame-to-frame links
    int max_gap = 2;                     // frames a track may skip when gap closing (0: no gap closing)
    double max_gap_distance = 7.0;       // px, gap-closing links
    // How much leaving an end unlinked costs. Cutoff (the default): half the
    // squared gate times the factor, so any candidate inside the gate beats
    // no link and only competition decides. Percentile (TrackMate): the
    // factor times this percentile of the candidate costs, which also
    // refuses links much longer than the typical one (fast, directed
    // particles among slow ones).
    bool percentile_alternative = false;
    double alternative_cost_factor = 1.05;
    double cutoff_percentile = 0.9;
    int threads = 1;
};

struct Result {
    std::vector<int64_t> track;          // track id per detection, 0.. in order of first appearance
    int64_t links = 0, gap_closures = 0; // for the log
};

Result link(const std::vector<int64_t>& frame, const std::vector<double>& x, const std::vector<double>& y,
            const Options& options);

} // namespace link_lap
