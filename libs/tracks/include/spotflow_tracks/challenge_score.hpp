// The measures of the ISBI 2012 particle tracking challenge (Chenouard et
// al., Nat. Methods 11:281-289, 2014), computed as its reference scorer does
// (trackmate-sc/TrackMate-CTCRunner, performance/spt/measure: TrackToTrackDistance,
// OneToOneMatcher, PerformanceAnalyzer). plugins/eval_tracks/README.md states
// every definition.
#pragma once

#include <cstdint>
#include <vector>

#include "spotflow_tracks/tracks.hpp"

namespace spotflow::tracks {

// A ground-truth track against one estimated track (or a dummy).
struct PairComparison {
    double distance = 0;     // d(gt, est): sum over frames of min(||.||2, eps), eps where one track is absent
    bool matching = false;   // a real estimated point lies within eps of the ground truth in some frame
    int64_t matched = 0;     // ground-truth points with a real estimated point closer than eps (TP)
    int64_t missed = 0;      // ground-truth points without one (FN)
    int64_t wrong = 0;       // estimated points counted as false positives (FP)
    double sum_squared = 0;  // of the matched points' distances
};

PairComparison compare_tracks(const Track& gt, const Track& est, double eps);
PairComparison compare_with_dummy(const Track& gt, double eps);

struct ChallengeScore {
    double alpha = 0;
    double beta = 0;
    double jsc = 0;
    double jsc_theta = 0;
    double rmse_px = 0;                 // NaN when no point matched
    double paired_distance = 0;         // d(X, Y), dummy pairs included
    double gt_dummy_distance = 0;       // d(X, dummy)
    double spurious_dummy_distance = 0; // d(Y-bar, dummy)
    int64_t tp = 0, fn = 0, fp = 0;
    int64_t paired_tracks = 0, missed_tracks = 0, spurious_tracks = 0;
    std::vector<int64_t> pairing; // per ground-truth track: index of its estimated track, -1 for a dummy
};

// gt must not be empty. Runs its loops with tbb in the caller's arena.
ChallengeScore score_challenge(const std::vector<Track>& gt, const std::vector<Track>& est, double eps);

} // namespace spotflow::tracks
