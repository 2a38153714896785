// Permutation importance of the best pipeline on the test split: the mean
// (and sd) drop in balanced accuracy when one metric's values are shuffled
// among the test items (Breiman 2001; scikit-learn's permutation_importance),
// the same measure for every classifier.
#pragma once

#include <string>
#include <vector>

#include "pipeline.hpp"

namespace curation {

struct Importance {
    std::string metric;
    double mean = 0, sd = 0;
};

// x: raw metrics of the test items; repeats shuffles per metric, seeded.
std::vector<Importance> permutation_importance(const Pipeline& p, const Matrix& x, const std::vector<int>& y,
                                               int repeats, uint64_t seed);

// A bar chart of the importances, largest first (libs/plot).
void draw_importance(const std::string& path, const std::vector<Importance>& imp, const std::string& title);

} // namespace curation
