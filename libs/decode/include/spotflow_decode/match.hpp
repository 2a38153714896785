// Detections against ground truth, frame by frame: an optimal one-to-one
// assignment (libs/assignment) over pairs closer than the tolerance, as
// eval.detections scores them. Plain C++, for the trainer's validation, the
// tests and the benchmark.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace decode {

struct Point {
    double x = 0, y = 0;
};

struct Scores {
    int64_t tp = 0, fp = 0, fn = 0;
    double sum_sq = 0; // sum of dx^2 + dy^2 over matched pairs
    double precision() const { return tp + fp ? double(tp) / double(tp + fp) : 0; }
    double recall() const { return tp + fn ? double(tp) / double(tp + fn) : 0; }
    double f1() const { return 2 * tp + fp + fn ? 2.0 * double(tp) / double(2 * tp + fp + fn) : 0; }
    // Lateral RMSE sqrt(mean(dx^2 + dy^2)), px; per axis divide by sqrt(2).
    double rmse() const { return tp ? std::sqrt(sum_sq / double(tp)) : 0; }
    Scores& operator+=(const Scores& o) {
        tp += o.tp, fp += o.fp, fn += o.fn, sum_sq += o.sum_sq;
        return *this;
    }
};

// One frame. matched_truth (optional) receives, per detection, the index of
// its truth point or -1.
Scores match_frame(const std::vector<Point>& detections, const std::vector<Point>& truth, double tolerance_px,
                   std::vector<int32_t>* matched_truth = nullptr);

} // namespace decode
