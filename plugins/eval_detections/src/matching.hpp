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

// Per point, the distance to the nearest other point of the same frame, or
// +infinity when none lies within `radius` px (a grid of cell `radius`, so
// the work follows the nearby pairs). Pure; safe from any thread.
std::vector<double> nearest_neighbour_px(const std::vector<Point>& pts, double radius);

// Where a true emitter stands among the others of its frame: isolated (no
// other within max_px), neighbouring (the nearest in [min_px, max_px]) or
// close (nearer than min_px, two spots that overlap into one blob).
enum class Neighbourhood { Isolated = 0, Neighbouring = 1, Close = 2 };
constexpr int kNeighbourhoods = 3;
inline Neighbourhood neighbourhood(double nearest_px, double min_px, double max_px) {
    return nearest_px > max_px ? Neighbourhood::Isolated
           : nearest_px >= min_px ? Neighbourhood::Neighbouring
                                  : Neighbourhood::Close;
}
inline const char* name(Neighbourhood n) {
    return n == Neighbourhood::Isolated ? "isolated" : n == Neighbourhood::Neighbouring ? "neighbouring" : "close";
}

} // namespace eval_detections
