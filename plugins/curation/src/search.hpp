// The seed's training: a stratified, seeded test split; for every imputer x
// scaler x classifier, a random search over the classifier's
// hyper-parameters scored by k-fold stratified cross-validation (balanced
// accuracy); the best candidate refitted on the whole training split and
// scored on the test split.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ml.hpp"

namespace curation {

struct Split {
    std::vector<size_t> train, test; // row indices, ascending
};
// Per class, a seeded shuffle puts round(test_fraction * n_class) items (at
// least 1, at most n_class - 1) into the test split.
Split stratified_split(const std::vector<int>& y, int n_classes, double test_fraction, uint64_t seed);
// fold[i] for each of `rows` (indices into y): per class, a seeded shuffle
// dealt round-robin into k folds.
std::vector<int> stratified_folds(const std::vector<int>& y, const std::vector<size_t>& rows, int n_classes, int k,
                                  uint64_t seed);

struct GridSpec {
    std::vector<Imputer> imputers;
    std::vector<Scaler> scalers;
    std::vector<ClassifierKind> classifiers;
    int n_iter = 10;
    int folds = 5;
    uint64_t seed = 0;
    int threads = 1;
};

struct GridRow {
    int model_id = 0; // position in the grid: imputer, then scaler, then classifier
    ClassifierKind classifier{};
    Imputer imputer{};
    Scaler scaler{};
    nlohmann::json best_params;
    double cv_balanced_accuracy = 0;
    Scores test;
};

struct GridResult {
    std::vector<GridRow> rows; // in model_id order
    size_t best = 0;           // index into rows: highest cross-validated balanced accuracy (ties: lower model_id)
    Preprocessor best_preprocessor;
    std::unique_ptr<Model> best_model; // refitted on the training split
    int64_t fits = 0;
};

// x: every labelled item; y: its class. `cancelled` is polled between fits
// (true: throws std::runtime_error("cancelled")).
GridResult run_grid(const Matrix& x, const std::vector<int>& y, int n_classes, const Split& split,
                    const GridSpec& spec, const std::function<bool()>& cancelled);

} // namespace curation
