#include "pipeline.hpp"

#include <fstream>
#include <stdexcept>

namespace curation {

nlohmann::json Pipeline::to_json() const {
    nlohmann::json conv = nlohmann::json::object();
    for (size_t i = 0; i < classes.size(); ++i) conv[std::to_string(i)] = classes[i];
    return {{"format", kModelFormat},
            {"version", 1},
            {"metric_names", metric_names},
            {"label_conversion", conv},
            {"id_column", id_column},
            {"preprocessing", preprocessor.to_json()},
            {"classifier", name(classifier)},
            {"params", params},
            {"model", model->save()},
            {"training", training}};
}

Pipeline Pipeline::from_json(const nlohmann::json& j, const std::string& what) {
    if (!j.is_object() || j.value("format", "") != kModelFormat)
        throw std::invalid_argument(what + " is not a curation model (no \"format\": \"" + kModelFormat + "\")");
    if (j.value("version", 0) != 1)
        throw std::invalid_argument(what + ": curation model version " + j.value("version", nlohmann::json()).dump() +
                                    "; this plugin reads version 1");
    try {
        Pipeline p;
        p.metric_names = j.at("metric_names").get<std::vector<std::string>>();
        const auto& conv = j.at("label_conversion");
        p.classes.resize(conv.size());
        for (size_t i = 0; i < conv.size(); ++i) p.classes[i] = conv.at(std::to_string(i)).get<std::string>();
        p.id_column = j.value("id_column", "");
        p.preprocessor = Preprocessor::from_json(j.at("preprocessing"));
        if (p.preprocessor.fill.size() != p.metric_names.size())
            throw std::invalid_argument("the preprocessing does not match the metric names");
        p.classifier = parse_classifier(j.at("classifier").get<std::string>());
        p.params = j.at("params");
        p.model = load_model(p.classifier, j.at("model"));
        p.training = j.value("training", nlohmann::json::object());
        return p;
    } catch (const nlohmann::json::exception& e) {
        throw std::invalid_argument(what + ": " + e.what());
    } catch (const std::runtime_error& e) {
        throw std::invalid_argument(what + ": " + e.what());
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(what + ": " + e.what());
    }
}

Pipeline Pipeline::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::invalid_argument("cannot open curation model '" + path + "'");
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception& e) {
        throw std::invalid_argument("curation model '" + path + "' is not JSON: " + e.what());
    }
    return from_json(j, "curation model '" + path + "'");
}

} // namespace curation
