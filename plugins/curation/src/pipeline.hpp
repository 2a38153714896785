// The saved pipeline: one JSON file holding the metric names, the label
// conversion, the fitted imputer and scaler, the classifier's name and
// hyper-parameters and its fitted model (XGBoost's own JSON model, or the
// MLP's weights), plus a summary of the training. No pickle, no code.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ml.hpp"

namespace curation {

constexpr const char* kModelFormat = "spotflow-curation-model";

struct Pipeline {
    std::vector<std::string> metric_names;
    std::vector<std::string> classes; // class index -> label
    std::string id_column;
    Preprocessor preprocessor;
    ClassifierKind classifier{};
    nlohmann::json params;
    std::shared_ptr<const Model> model;
    nlohmann::json training; // scores, sizes, seed: for the record

    Matrix predict_proba(const Matrix& raw) const { return model->predict_proba(preprocessor.apply(raw)); }
    nlohmann::json to_json() const;
    // Throws std::invalid_argument naming `what` for a file that is not a
    // curation model or is inconsistent.
    static Pipeline from_json(const nlohmann::json& j, const std::string& what);
    static Pipeline load(const std::string& path);
};

} // namespace curation
