#include "mlp.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace curation {
namespace {

class MlpModel : public Model {
public:
    explicit MlpModel(std::vector<MlpLayer> layers) : layers_(std::move(layers)) {}
    Matrix predict_proba(const Matrix& x) const override { return mlp_forward(layers_, x); }
    nlohmann::json save() const override {
        nlohmann::json layers = nlohmann::json::array();
        for (const MlpLayer& l : layers_) layers.push_back({{"in", l.in}, {"out", l.out}, {"weight", l.w}, {"bias", l.b}});
        return {{"activation", "relu"}, {"output", "softmax"}, {"layers", layers}};
    }

private:
    std::vector<MlpLayer> layers_;
};

} // namespace

Matrix mlp_forward(const std::vector<MlpLayer>& layers, const Matrix& x) {
    Matrix a = x;
    for (size_t k = 0; k < layers.size(); ++k) {
        const MlpLayer& l = layers[k];
        if (a.cols != l.in) throw std::invalid_argument("the MLP's input has the wrong width");
        Matrix z(a.rows, l.out);
        for (size_t r = 0; r < a.rows; ++r)
            for (size_t o = 0; o < l.out; ++o) {
                double s = l.b[o];
                const double* w = &l.w[o * l.in];
                for (size_t i = 0; i < l.in; ++i) s += w[i] * a.at(r, i);
                z.at(r, o) = k + 1 < layers.size() ? std::max(0.0, s) : s;
            }
        a = std::move(z);
    }
    for (size_t r = 0; r < a.rows; ++r) { // softmax
        double m = a.at(r, 0), sum = 0;
        for (size_t c = 1; c < a.cols; ++c) m = std::max(m, a.at(r, c));
        for (size_t c = 0; c < a.cols; ++c) sum += (a.at(r, c) = std::exp(a.at(r, c) - m));
        for (size_t c = 0; c < a.cols; ++c) a.at(r, c) /= sum;
    }
    return a;
}

std::unique_ptr<Model> fit_mlp(const nlohmann::json& params, const Matrix& x, const std::vector<int>& y,
                               int n_classes, uint64_t seed) {
    return std::make_unique<MlpModel>(train_mlp(x, y, n_classes, params.at("hidden_layer_sizes").get<std::vector<int>>(),
                                                params.at("alpha").get<double>(),
                                                params.value("learning_rate_init", 0.0),
                                                params.at("max_iter").get<int>(), seed));
}

std::unique_ptr<Model> load_mlp(const nlohmann::json& saved) {
    std::vector<MlpLayer> layers;
    for (const auto& j : saved.at("layers")) {
        MlpLayer l{j.at("in").get<size_t>(), j.at("out").get<size_t>(), j.at("weight").get<std::vector<double>>(),
                   j.at("bias").get<std::vector<double>>()};
        if (l.w.size() != l.in * l.out || l.b.size() != l.out)
            throw std::invalid_argument("an MLP layer's weights do not match its size");
        if (!layers.empty() && layers.back().out != l.in) throw std::invalid_argument("MLP layers do not chain");
        layers.push_back(std::move(l));
    }
    if (layers.empty()) throw std::invalid_argument("the MLP has no layers");
    return std::make_unique<MlpModel>(std::move(layers));
}

bool available(ClassifierKind kind) { return kind != ClassifierKind::MLP || mlp_trainable(); }

std::string versions() {
    std::string v = "xgboost " + xgboost_version();
    if (!torch_version().empty()) v += ", libtorch " + torch_version();
    return v;
}

} // namespace curation
