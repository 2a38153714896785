// The curation classifier's building blocks (seed 004, UnitRefine's
// workflow): a dense feature matrix, the imputers and scalers, the
// classifiers behind one interface, and the scores. No LibTorch here: the
// MLP's training is mlp_torch.cpp's, its prediction plain C++.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace curation {

// Row-major rows x cols; NaN is a missing value.
struct Matrix {
    size_t rows = 0, cols = 0;
    std::vector<double> v;
    Matrix() = default;
    Matrix(size_t r, size_t c, double fill = 0) : rows(r), cols(c), v(r * c, fill) {}
    double& at(size_t r, size_t c) { return v[r * cols + c]; }
    double at(size_t r, size_t c) const { return v[r * cols + c]; }
    Matrix take(const std::vector<size_t>& row_ids) const;
};

enum class Imputer { Median, Mean, MostFrequent };
enum class Scaler { Standard, Robust, MinMax };
enum class ClassifierKind { RandomForest, GradientBoosting, LogisticRegression, MLP };

// The seed's names: "median", "mean", "most_frequent"; "standard_scaler",
// "robust_scaler", "min_max_scaler"; "RandomForestClassifier",
// "GradientBoostingClassifier", "LogisticRegression", "MLPClassifier".
std::string name(Imputer i);
std::string name(Scaler s);
std::string name(ClassifierKind k);
// Throw std::invalid_argument naming the unknown name.
Imputer parse_imputer(const std::string& s);
Scaler parse_scaler(const std::string& s);
ClassifierKind parse_classifier(const std::string& s);

// Impute (fill each column's NaN with its training median, mean or most
// frequent value), then scale x' = (x - center) / scale with center/scale
// the mean/sd (standard), median/IQR (robust) or min/range (min_max), all
// from the training rows; a zero sd, IQR or range scales by 1 (as
// scikit-learn does). A column with no value at all in training fills with
// 0. `empty_columns` counts those.
struct Preprocessor {
    Imputer imputer = Imputer::Median;
    Scaler scaler = Scaler::Standard;
    std::vector<double> fill, center, scale;
    int64_t empty_columns = 0;

    static Preprocessor fit(const Matrix& x, Imputer imputer, Scaler scaler);
    Matrix apply(const Matrix& x) const; // NaN and +-inf are imputed
    nlohmann::json to_json() const;
    static Preprocessor from_json(const nlohmann::json& j);
};

// A fitted classifier. Threading: const methods from any thread.
class Model {
public:
    virtual ~Model() = default;
    // rows x n_classes probabilities.
    virtual Matrix predict_proba(const Matrix& x) const = 0;
    virtual nlohmann::json save() const = 0;
};

// Fits kind with params (one of sample_params' draws) on rows x of class
// y[i] in [0, n_classes). Single-threaded; deterministic for a seed.
std::unique_ptr<Model> fit_model(ClassifierKind kind, const nlohmann::json& params, const Matrix& x,
                                 const std::vector<int>& y, int n_classes, uint64_t seed);
std::unique_ptr<Model> load_model(ClassifierKind kind, const nlohmann::json& saved);
// Tree models split on order only: a per-column affine scaling leaves their
// fits unchanged, so the search fits them once per imputer.
bool scale_invariant(ClassifierKind kind);
// n_iter draws from kind's hyper-parameter space (README: "The search").
std::vector<nlohmann::json> sample_params(ClassifierKind kind, int n_iter, uint64_t seed);
// Whether the classifiers can be built here (XGBoost, LibTorch found at build time).
bool available(ClassifierKind kind);
std::string versions(); // "xgboost 1.7.4, libtorch 2.x" for model_info.json

// XGBoost's tree models (xgb_models.cpp), logistic regression (logistic.cpp)
// and the MLP (mlp.cpp).
std::unique_ptr<Model> fit_xgboost(ClassifierKind kind, const nlohmann::json& params, const Matrix& x,
                                   const std::vector<int>& y, int n_classes, uint64_t seed);
std::unique_ptr<Model> load_xgboost(const nlohmann::json& saved);
std::unique_ptr<Model> fit_logistic(const nlohmann::json& params, const Matrix& x, const std::vector<int>& y,
                                    int n_classes, uint64_t seed);
std::unique_ptr<Model> load_logistic(const nlohmann::json& saved);
std::unique_ptr<Model> fit_mlp(const nlohmann::json& params, const Matrix& x, const std::vector<int>& y,
                               int n_classes, uint64_t seed);
std::unique_ptr<Model> load_mlp(const nlohmann::json& saved);

// Scores as scikit-learn computes them: balanced accuracy is the mean recall
// over the classes present in `truth`; precision and recall are macro
// averages over the classes in truth or prediction, 0 where undefined.
struct Scores {
    double balanced_accuracy = 0, precision = 0, recall = 0;
};
Scores score(const std::vector<int>& truth, const std::vector<int>& predicted, int n_classes);
std::vector<int> argmax_rows(const Matrix& proba); // ties: the lower class

// Deterministic random numbers: splitmix64 of a seed and tags.
uint64_t mix(uint64_t seed, uint64_t tag);

} // namespace curation
