// Merging track fragments across temporal gaps (seed 000, Step 6): a global
// assignment of fragment ends to fragment starts.
#pragma once

#include <cstdint>
#include <vector>

namespace gapfill {

struct Options {
    int max_gap = 40;              // missing frames between a fragment's end and the next one's start
    double max_distance = 100;     // px between that end and that start
    double velocity_weight = 0;    // weight of the miss of a constant-velocity prediction
    double intensity_weight = 0;   // weight of the relative change of mean intensity
    int velocity_points = 5;       // last/first points used to estimate a fragment's velocity
    // A join is accepted when its cost, 2 d^2 / (s^2 dt) (chi-square with 2
    // degrees of freedom for Brownian motion), is below this gate: 13.8 is
    // its 0.999 quantile.
    double gate = 13.8;
    double step_variance = 0;      // s^2, mean squared step per frame (px^2); 0: estimate from the fragments
    // Also try a constant-velocity prediction from the end's last
    // velocity_points: a join costs the lower of the Brownian cost and
    // 2 r^2 / (s^2 (dt + dt^2 / span)), r the miss of the prediction and
    // span the frames the velocity was measured over (its own noise).
    bool directed = true;
    // Compare each join with its alternative, the end being a death and the
    // start an unrelated birth: a join is taken only when the start is more
    // likely under the end's motion (a Gaussian of the cost's variance, with
    // the gap length uniform over 1..max_gap + 1) than under the density of
    // fragment starts per px^2 per frame, learnt from the fragments
    // themselves (start_density). Sparse movies keep the plain gate; dense
    // ones refuse long, far joins that any of many births would explain.
    bool birth_test = true;
};

struct Fragment {
    int64_t id;
    std::vector<int64_t> frame; // sorted
    std::vector<double> x, y;
    double intensity = 0;       // mean, NaN if unknown
};

// For each fragment, the index of the fragment it continues into, or -1.
// A link joins the end of fragment a (frame te) to the start of fragment b
// (frame ts) only if te < ts <= te + max_gap + 1: fragments that overlap in
// time are never merged.
std::vector<int64_t> join(const std::vector<Fragment>& fragments, const Options& options);

// The mean squared displacement per frame of consecutive points within the
// fragments (the s^2 that normalises join costs); 1 if there are none.
double mean_step_variance(const std::vector<Fragment>& fragments);

// Fragment starts after the first frame of the data, per px^2 of the
// points' bounding box per frame of their span; 0 (not learnt: the birth
// test is off) with fewer than 20 such starts.
double start_density(const std::vector<Fragment>& fragments);

} // namespace gapfill
