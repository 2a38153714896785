// The tables this evaluator writes and emits (README.md, "Outputs").
#pragma once

#include <string>
#include <vector>

#include "evaluation.hpp"
#include "spotflow/arrow_c.h"

namespace eval_tracks {

// One row per track, predicted and ground truth.
void write_track_statistics(const std::string& path, const GroundTruth& truth, const Evaluation& e);
// One row per ground-truth track.
void write_fragmentation(const std::string& path, const Evaluation& e);
// One row per tracker.
void write_comparison(const std::string& path, const std::vector<Evaluation>& all);

// The `metrics` output: one row per tracker, every measure.
void build_metrics_table(const std::vector<Evaluation>& all, const GroundTruth& truth, double gate,
                         ArrowSchema* schema, ArrowArray* array);

} // namespace eval_tracks
