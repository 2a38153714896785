// Names, the hyper-parameter spaces, the dispatch to XGBoost and the MLP,
// and the scores.
#include <algorithm>
#include <random>
#include <set>
#include <stdexcept>

#include "ml.hpp"

namespace curation {

uint64_t mix(uint64_t seed, uint64_t tag) {
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (tag + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::string name(Imputer i) {
    switch (i) {
    case Imputer::Median: return "median";
    case Imputer::Mean: return "mean";
    case Imputer::MostFrequent: return "most_frequent";
    }
    return "?";
}
std::string name(Scaler s) {
    switch (s) {
    case Scaler::Standard: return "standard_scaler";
    case Scaler::Robust: return "robust_scaler";
    case Scaler::MinMax: return "min_max_scaler";
    }
    return "?";
}
std::string name(ClassifierKind k) {
    switch (k) {
    case ClassifierKind::RandomForest: return "RandomForestClassifier";
    case ClassifierKind::GradientBoosting: return "GradientBoostingClassifier";
    case ClassifierKind::LogisticRegression: return "LogisticRegression";
    case ClassifierKind::MLP: return "MLPClassifier";
    }
    return "?";
}
Imputer parse_imputer(const std::string& s) {
    for (Imputer i : {Imputer::Median, Imputer::Mean, Imputer::MostFrequent})
        if (name(i) == s) return i;
    throw std::invalid_argument("unknown imputation strategy '" + s + "' (median, mean, most_frequent)");
}
Scaler parse_scaler(const std::string& s) {
    for (Scaler c : {Scaler::Standard, Scaler::Robust, Scaler::MinMax})
        if (name(c) == s) return c;
    throw std::invalid_argument("unknown scaling strategy '" + s + "' (standard_scaler, robust_scaler, min_max_scaler)");
}
ClassifierKind parse_classifier(const std::string& s) {
    for (ClassifierKind k : {ClassifierKind::RandomForest, ClassifierKind::GradientBoosting,
                             ClassifierKind::LogisticRegression, ClassifierKind::MLP})
        if (name(k) == s) return k;
    throw std::invalid_argument("unknown classifier '" + s +
                                "' (RandomForestClassifier, GradientBoostingClassifier, LogisticRegression, MLPClassifier)");
}

bool scale_invariant(ClassifierKind k) {
    return k == ClassifierKind::RandomForest || k == ClassifierKind::GradientBoosting;
}

std::vector<nlohmann::json> sample_params(ClassifierKind kind, int n_iter, uint64_t seed) {
    std::mt19937_64 rng(mix(seed, 1000 + static_cast<uint64_t>(kind)));
    auto pick = [&](const auto& options) {
        std::uniform_int_distribution<size_t> d(0, options.size() - 1);
        return options[d(rng)];
    };
    using V = std::vector<double>;
    using I = std::vector<int>;
    std::vector<nlohmann::json> out;
    std::set<std::string> seen;
    // Distinct draws where the space allows; a small space gives fewer.
    for (int attempt = 0; static_cast<int>(out.size()) < n_iter && attempt < 50 * n_iter; ++attempt) {
        nlohmann::json p;
        switch (kind) {
        case ClassifierKind::RandomForest:
            p = {{"n_estimators", pick(I{50, 100, 200})},
                 {"max_depth", pick(I{4, 6, 8, 12})},
                 {"min_child_weight", pick(V{1, 2, 4})},
                 {"colsample_bynode", pick(V{0.3, 0.5, 0.8})},
                 {"subsample", pick(V{0.632, 0.8})}};
            break;
        case ClassifierKind::GradientBoosting:
            p = {{"n_estimators", pick(I{50, 100, 200})},
                 {"learning_rate", pick(V{0.03, 0.1, 0.3})},
                 {"max_depth", pick(I{2, 3, 4, 6})},
                 {"subsample", pick(V{0.7, 0.85, 1.0})},
                 {"min_child_weight", pick(V{1, 3})}};
            break;
        case ClassifierKind::LogisticRegression:
            p = {{"C", pick(V{1e-3, 1e-2, 0.1, 1, 10, 100})}, {"max_iter", 100}};
            break;
        case ClassifierKind::MLP:
            p = {{"hidden_layer_sizes", pick(std::vector<I>{{16}, {32}, {64}, {32, 16}})},
                 {"alpha", pick(V{1e-4, 1e-3, 1e-2, 0.1, 1})},
                 {"solver", "lbfgs"},
                 {"max_iter", pick(I{50, 100, 200})}};
            break;
        }
        if (seen.insert(p.dump()).second) out.push_back(p);
    }
    return out;
}

std::unique_ptr<Model> fit_model(ClassifierKind kind, const nlohmann::json& params, const Matrix& x,
                                 const std::vector<int>& y, int n_classes, uint64_t seed) {
    if (kind == ClassifierKind::MLP) return fit_mlp(params, x, y, n_classes, seed);
    if (kind == ClassifierKind::LogisticRegression) return fit_logistic(params, x, y, n_classes, seed);
    return fit_xgboost(kind, params, x, y, n_classes, seed);
}

std::unique_ptr<Model> load_model(ClassifierKind kind, const nlohmann::json& saved) {
    if (kind == ClassifierKind::MLP) return load_mlp(saved);
    if (kind == ClassifierKind::LogisticRegression) return load_logistic(saved);
    return load_xgboost(saved);
}

std::vector<int> argmax_rows(const Matrix& proba) {
    std::vector<int> out(proba.rows);
    for (size_t r = 0; r < proba.rows; ++r) {
        size_t best = 0;
        for (size_t c = 1; c < proba.cols; ++c)
            if (proba.at(r, c) > proba.at(r, best)) best = c;
        out[r] = static_cast<int>(best);
    }
    return out;
}

Scores score(const std::vector<int>& truth, const std::vector<int>& predicted, int n_classes) {
    std::vector<double> tp(n_classes, 0), in_truth(n_classes, 0), in_pred(n_classes, 0);
    for (size_t i = 0; i < truth.size(); ++i) {
        ++in_truth[truth[i]];
        ++in_pred[predicted[i]];
        if (truth[i] == predicted[i]) ++tp[truth[i]];
    }
    Scores s;
    int present = 0, labels = 0;
    for (int c = 0; c < n_classes; ++c) {
        if (in_truth[c] > 0) {
            s.balanced_accuracy += tp[c] / in_truth[c];
            ++present;
        }
        if (in_truth[c] > 0 || in_pred[c] > 0) {
            s.precision += in_pred[c] > 0 ? tp[c] / in_pred[c] : 0;
            s.recall += in_truth[c] > 0 ? tp[c] / in_truth[c] : 0;
            ++labels;
        }
    }
    if (present) s.balanced_accuracy /= present;
    if (labels) s.precision /= labels, s.recall /= labels;
    return s;
}

} // namespace curation
