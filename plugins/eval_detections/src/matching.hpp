// Detection scoring: per frame, an optimal one-to-one matching of
// detections to ground truth within a tolerance, and the counts and errors
// that follow from it.
#pragma once

#include <cstdint>
#include <vector>

namespace eval_detections {

struct Point {
    int64_t frame;
    double x, y;
};

struct Match {
    std::vector<int64_t> truth_of; // per detection: the matched truth index, or -1
    int64_t tp = 0, fp = 0, fn = 0;
};

// Within each frame, minimises the sum of matched distances plus
// `tolerance` for each point left unmatched, over pairs strictly closer than
// the tolerance (a detection at or beyond it can never be matched: it is a
// false positive and its emitter a false negative). Points of a frame are
// paired through a grid, so the work follows the nearby pairs.
Match match(const std::vector<Point>& truth, const std::vector<Point>& detections, double tolerance);

struct Metrics {
    int64_t tp = 0, fp = 0, fn = 0;
    double precision = 0, recall = 0, f1 = 0, jaccard = 0;
    double rmse_lateral = 0, rmse_x = 0, rmse_y = 0, bias_x = 0, bias_y = 0; // px
};

// Counts and localisation errors of matched pairs (detection − truth).
Metrics metrics(const std::vector<Point>& truth, const std::vector<Point>& detections, const Match& m);

} // namespace eval_detections
