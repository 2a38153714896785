// LAP linking in the u-track / TrackMate style (Jaqaman et al. 2008):
// frame-to-frame global assignment, then a second global assignment over
// segment ends and starts to close gaps. The cost of a link comes from a
// per-track motion model (motion_model.hpp) whose noise is learnt from the
// data (displacement_scale.hpp), or, with Motion::Brownian, is the plain
// squared distance inside a gate.
//
// Merging and splitting would enter the second step as further candidate
// columns (a segment start joining the middle of another segment) and rows,
// without changing the first step.
#pragma once

#include <cstdint>
#include <vector>

#include "displacement_scale.hpp"
#include "motion_model.hpp"

namespace link_lap {

struct Options {
    Motion motion = Motion::Imm;
    // px. Kalman models: a cap on the search radius (0: none, the filter's
    // covariance decides). Brownian: the fixed gate (0: learnt, gate_sigma x
    // the rms 2-D displacement).
    double max_distance = 0.0;
    int max_gap = 7;                     // frames a track may skip when gap closing (0: no gap closing)
    double max_gap_distance = 0.0;       // px, the same for gap-closing links
    // Gate in units of the rms 2-D displacement (u-track's brownStdMult 3):
    // a link is taken only if its cost (the squared Mahalanobis distance
    // for one model) is below factor x 2 gate_sigma^2.
    double gate_sigma = 3.0;
    double min_radius = 1.0;             // px, smallest search radius (a floor on the innovation covariance)
    // How much leaving an end unlinked costs. Cutoff (the default): half the
    // gate's cost times the factor, so any candidate inside the gate beats
    // no link and only competition decides. Percentile (TrackMate): the
    // factor times this percentile of the candidate costs, which also
    // refuses links much longer than the typical one.
    bool percentile_alternative = false;
    double alternative_cost_factor = 1.05;
    double cutoff_percentile = 0.9;
    // Kalman models: add the intensity term to the cost when intensities
    // are given to link().
    bool use_intensity = true;
    // px. A detection with another one of its frame closer than this is
    // crowded: its fitted intensity shares light with the neighbour, so the
    // intensity term uses the variance learnt on crowded pairs for it
    // (0: one variance for all).
    double crowding_radius = 6.0;
    int threads = 1;
};

struct Result {
    std::vector<int64_t> track;          // track id per detection, 0.. in order of first appearance
    int64_t links = 0, gap_closures = 0; // for the log
    DisplacementScale scale;             // what was learnt
    double max_search_radius = 0;        // px, largest frame-to-frame search radius used
};

// `intensity` (optional, one per detection, e.g. photons): with the Kalman
// models a link also pays (ln I - the track's mean ln I)^2 over its learnt
// variance, so puncta of different brightness are not swapped.
// Threading: runs in a task arena of options.threads threads; the inputs
// are only read. Throws std::invalid_argument when the inputs differ in
// length or a coordinate is not finite.
Result link(const std::vector<int64_t>& frame, const std::vector<double>& x, const std::vector<double>& y,
            const Options& options, const std::vector<double>* intensity = nullptr);

} // namespace link_lap
