// Random forest and gradient boosting on Debian's XGBoost C API
// (libxgboost-dev): a forest is one boosting round of n_estimators parallel
// trees on row and column subsamples with learning rate 1 (XGBoost's
// random-forest mode).
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include <xgboost/c_api.h>

#include "ml.hpp"

namespace curation {
namespace {

void check(int rc, const char* what) {
    if (rc != 0) throw std::runtime_error(std::string("XGBoost ") + what + ": " + XGBGetLastError());
}

struct DMatrix {
    DMatrixHandle h = nullptr;
    explicit DMatrix(const Matrix& x) {
        std::vector<float> f(x.v.begin(), x.v.end());
        check(XGDMatrixCreateFromMat(f.data(), x.rows, x.cols, std::nanf(""), &h), "matrix");
    }
    ~DMatrix() {
        if (h) XGDMatrixFree(h);
    }
    DMatrix(const DMatrix&) = delete;
    DMatrix& operator=(const DMatrix&) = delete;
};

class XgbModel : public Model {
public:
    XgbModel(BoosterHandle h, int n_classes) : h_(h), n_classes_(n_classes) {}
    ~XgbModel() override { XGBoosterFree(h_); }

    Matrix predict_proba(const Matrix& x) const override {
        Matrix out(x.rows, static_cast<size_t>(n_classes_));
        if (x.rows == 0) return out;
        DMatrix d(x);
        const bst_ulong* shape = nullptr;
        bst_ulong dim = 0;
        const float* result = nullptr;
        check(XGBoosterPredictFromDMatrix(
                  h_, d.h, R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})",
                  &shape, &dim, &result),
              "prediction");
        for (size_t r = 0; r < x.rows; ++r) {
            if (n_classes_ == 2) {
                out.at(r, 1) = result[r];
                out.at(r, 0) = 1.0 - result[r];
            } else {
                for (int c = 0; c < n_classes_; ++c) out.at(r, c) = result[r * n_classes_ + c];
            }
        }
        return out;
    }

    nlohmann::json save() const override {
        bst_ulong len = 0;
        const char* buf = nullptr;
        check(XGBoosterSaveModelToBuffer(h_, R"({"format": "json"})", &len, &buf), "saving");
        return {{"n_classes", n_classes_}, {"xgboost_model", nlohmann::json::parse(std::string(buf, len))}};
    }

private:
    BoosterHandle h_;
    int n_classes_;
};

std::string num(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.17g", v);
    return b;
}

} // namespace

std::unique_ptr<Model> fit_xgboost(ClassifierKind kind, const nlohmann::json& params, const Matrix& x,
                                   const std::vector<int>& y, int n_classes, uint64_t seed) {
    DMatrix d(x);
    std::vector<float> labels(y.begin(), y.end());
    check(XGDMatrixSetFloatInfo(d.h, "label", labels.data(), labels.size()), "labels");
    BoosterHandle h = nullptr;
    check(XGBoosterCreate(&d.h, 1, &h), "booster");
    std::unique_ptr<XgbModel> model(new XgbModel(h, n_classes));
    auto set = [&](const char* k, const std::string& v) { check(XGBoosterSetParam(h, k, v.c_str()), k); };
    set("nthread", "1");
    set("verbosity", "0");
    set("seed", std::to_string(seed % 2147483647));
    if (n_classes == 2) {
        set("objective", "binary:logistic");
    } else {
        set("objective", "multi:softprob");
        set("num_class", std::to_string(n_classes));
    }
    int rounds = 1;
    switch (kind) {
    case ClassifierKind::RandomForest:
        set("booster", "gbtree");
        set("tree_method", "hist");
        set("learning_rate", "1");
        set("num_parallel_tree", std::to_string(params.at("n_estimators").get<int>()));
        set("max_depth", std::to_string(params.at("max_depth").get<int>()));
        set("min_child_weight", num(params.at("min_child_weight").get<double>()));
        set("colsample_bynode", num(params.at("colsample_bynode").get<double>()));
        set("subsample", num(params.at("subsample").get<double>()));
        set("reg_lambda", "1e-5");
        break;
    case ClassifierKind::GradientBoosting:
        set("booster", "gbtree");
        set("tree_method", "hist");
        set("learning_rate", num(params.at("learning_rate").get<double>()));
        set("max_depth", std::to_string(params.at("max_depth").get<int>()));
        set("subsample", num(params.at("subsample").get<double>()));
        set("min_child_weight", num(params.at("min_child_weight").get<double>()));
        rounds = params.at("n_estimators").get<int>();
        break;
    case ClassifierKind::LogisticRegression:
    case ClassifierKind::MLP:
        throw std::logic_error("not an XGBoost model");
    }
    for (int i = 0; i < rounds; ++i) check(XGBoosterUpdateOneIter(h, i, d.h), "training");
    return model;
}

std::unique_ptr<Model> load_xgboost(const nlohmann::json& saved) {
    const int n_classes = saved.at("n_classes").get<int>();
    const std::string text = saved.at("xgboost_model").dump();
    BoosterHandle h = nullptr;
    check(XGBoosterCreate(nullptr, 0, &h), "booster");
    std::unique_ptr<XgbModel> model(new XgbModel(h, n_classes));
    check(XGBoosterLoadModelFromBuffer(h, text.data(), text.size()), "loading");
    check(XGBoosterSetParam(h, "nthread", "1"), "nthread");
    return model;
}

std::string xgboost_version() {
    int a = 0, b = 0, c = 0;
    XGBoostVersion(&a, &b, &c);
    return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c);
}

} // namespace curation
