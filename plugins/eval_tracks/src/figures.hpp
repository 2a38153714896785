// The figures this evaluator draws (PLplot through libs/plot).
#pragma once

#include <string>
#include <vector>

#include "evaluation.hpp"

namespace eval_tracks {

// Track-length histograms and length classes, predicted against ground truth.
void draw_track_length_analysis(const std::string& path, const GroundTruth& truth, const Evaluation& e);

// The measures as text, length classes, and the fragmentation histogram.
// pixel_size_nm > 0 adds the RMSE in nm.
void draw_diagnostic_summary(const std::string& path, const GroundTruth& truth, const Evaluation& e, double gate,
                             double pixel_size_nm);

// The trackers side by side: alpha, beta, JSC, JSC_theta; RMSE; fragmentation.
void draw_comparison(const std::string& path, const std::vector<Evaluation>& all, const GroundTruth& truth, double gate);

} // namespace eval_tracks
