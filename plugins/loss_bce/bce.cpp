// loss.bce: binary cross-entropy on logits with a positive-class weight, as
// torch.nn.BCEWithLogitsLoss(pos_weight=p). See README.md for the formula.
#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "spotflow/loss.hpp"
#include "spotflow/elementwise_loss.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/tensor.hpp"
#include "schema.json.hpp"

namespace {

struct Bce {
    double pos_weight;
    bool mean; // reduction "mean", else "sum"
};

// log(1 + exp(x)), without overflow for large x nor loss of precision for very negative x.
double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

double sigmoid(double x) {
    const double e = std::exp(-std::abs(x)); // never overflows
    return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}

// Per element, with w = 1 + (p - 1) y:
//   loss = -(p y log s(z) + (1 - y) log(1 - s(z))) = (1 - y) z + w softplus(-z)
//   dloss/dz = (1 - y) - w s(-z)
// The two terms of the last compute (the loss is their sum): the positive
// class's p y softplus(-z) and the negative's (1 - y) softplus(z).
struct Terms {
    double positive = 0, negative = 0;
};

double compute(const Bce& b, const spotflow_loss_io& io, Terms& terms) {
    const spotflow::ElementwiseIo t = spotflow::elementwise_io(io);
    const float* z = t.z;
    const float* y = t.y;
    float* grad = t.grad;
    const int64_t n = t.n;
    const auto kept = [&](int64_t i) { return t.kept(i); };

    int64_t counted = 0;
    for (int64_t i = 0; i < n; ++i) counted += kept(i);
    const double scale = b.mean && counted > 0 ? 1.0 / static_cast<double>(counted) : 1.0;
    const double p = b.pos_weight;
    double total = 0, pos = 0;
    for (int64_t i = 0; i < n; ++i) {
        if (!kept(i)) {
            if (grad) grad[i] = 0;
            continue;
        }
        const double zi = z[i], yi = y[i]; // in double: (1 - y) z in float would lose digits
        if (!(yi >= 0 && yi <= 1))
            throw std::invalid_argument("targets[0] element " + std::to_string(i) + " is " + std::to_string(yi) +
                                        ", outside [0, 1]");
        const double w = 1 + (p - 1) * yi;
        total += (1 - yi) * zi + w * softplus(-zi);
        pos += p * yi * softplus(-zi);
        if (grad) grad[i] = static_cast<float>(scale * ((1 - yi) - w * sigmoid(-zi)));
    }
    terms.positive = scale * pos;
    terms.negative = scale * (total - pos);
    return scale * total;
}

// The loss as loss.hpp wants it: params at construction, compute per call.
class BceLoss {
public:
    BceLoss(const spotflow_host*, const char* params_json) {
        const auto params = nlohmann::json::parse(params_json);
        const std::string reduction = params.at("reduction").get<std::string>();
        if (reduction != "mean" && reduction != "sum")
            throw std::invalid_argument("params: reduction must be \"mean\" or \"sum\", not \"" + reduction + "\"");
        const double pos_weight = params.at("pos_weight").get<double>();
        if (!(pos_weight > 0)) throw std::invalid_argument("params: pos_weight must be > 0");
        bce_ = {pos_weight, reduction == "mean"};
    }
    double compute(const spotflow_loss_io& io) { return ::compute(bce_, io, terms_); }
    int32_t component_count() const { return 2; }
    void component(int32_t i, const char** name, double* value) const {
        *name = i == 0 ? "positive" : "negative";
        *value = i == 0 ? terms_.positive : terms_.negative;
    }

private:
    Bce bce_{};
    Terms terms_;
};

const spotflow_loss_vtable vtable = spotflow::loss_vtable<BceLoss>();

const char* const schema = spotflow_schemas::schema; // schema.json

const spotflow_plugin_desc descriptor = {
    "loss.bce", "1.0.0", "Binary cross-entropy on logits, with pos_weight and an optional mask", "loss",
    nullptr, 0, 0, nullptr, // a loss has no ports
    schema,
    nullptr, &vtable, // loss, not node
};

} // namespace

SPOTFLOW_EXPORT_PLUGINS(descriptor);
