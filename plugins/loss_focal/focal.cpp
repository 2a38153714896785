// loss.focal and loss.focal_dice: the sigmoid focal loss (with BCE's
// pos_weight) and its 0.7/0.3 blend with a soft Dice loss, over the valid
// elements only (target != -1, and mask != 0 if a mask is given). The maths
// is libs/lossmath's; this file checks tensors, reduces and reports. See
// README.md.
#include <cmath>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "spotflow/elementwise_loss.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/loss.hpp"
#include "spotflow/tensor.hpp"
#include "spotflow_lossmath/focal_dice.hpp"

namespace {

namespace lm = spotflow::lossmath;

double number(const nlohmann::json& p, const char* key) {
    const double v = p.at(key).get<double>();
    if (!std::isfinite(v)) throw std::invalid_argument(std::string("params: ") + key + " is not finite");
    return v;
}

struct Settings {
    lm::FocalParams focal;
    double focal_weight = 1, dice_weight = 0, dice_smooth = 1, eps = 1e-8;
};

Settings parse(const char* params_json, bool with_dice) {
    const auto p = nlohmann::json::parse(params_json);
    Settings s;
    s.focal.alpha = number(p, "alpha");
    s.focal.gamma = number(p, "gamma");
    s.focal.pos_weight = number(p, "pos_weight");
    s.eps = number(p, "eps");
    if (s.focal.alpha > 1) throw std::invalid_argument("params: alpha must be <= 1 (or < 0 for no weighting)");
    if (s.focal.gamma < 0) throw std::invalid_argument("params: gamma must be >= 0");
    if (!(s.focal.pos_weight > 0)) throw std::invalid_argument("params: pos_weight must be > 0");
    if (s.eps < 0) throw std::invalid_argument("params: eps must be >= 0");
    if (with_dice) {
        s.focal_weight = number(p, "focal_weight");
        s.dice_weight = number(p, "dice_weight");
        s.dice_smooth = number(p, "dice_smooth");
        if (s.focal_weight < 0 || s.dice_weight < 0) throw std::invalid_argument("params: focal_weight and dice_weight must be >= 0");
        if (s.dice_smooth < 0) throw std::invalid_argument("params: dice_smooth must be >= 0");
    }
    return s;
}

struct Terms {
    double focal = 0, dice = 0, total = 0;
    int64_t valid = 0;
};

// total = focal_weight * sum_valid(FL) / (n_valid + eps) + dice_weight * (1 - softDice over valid)
double compute(const Settings& s, bool with_dice, const spotflow_loss_io& io, Terms& terms) {
    const spotflow::ElementwiseIo io_t = spotflow::elementwise_io(io);
    const float* z = io_t.z;
    const float* y = io_t.y;
    float* grad = io_t.grad;
    const int64_t n = io_t.n;

    // Pass 1: which elements count, the focal sum, the Dice sums.
    Terms t;
    double focal_sum = 0;
    lm::SoftDice dice;
    dice.smooth = s.dice_smooth;
    const auto valid = [&](int64_t i) {
        return y[i] != -1.0f && io_t.kept(i);
    };
    for (int64_t i = 0; i < n; ++i) {
        if (!valid(i)) continue;
        if (!(y[i] >= 0 && y[i] <= 1))
            throw std::invalid_argument("targets[0] element " + std::to_string(i) + " is " + std::to_string(y[i]) +
                                        ", outside [0, 1] and not -1 (ignore)");
        if (!std::isfinite(z[i]))
            throw std::invalid_argument("predictions[0] element " + std::to_string(i) + " is not finite");
        ++t.valid;
        focal_sum += lm::focal(z[i], y[i], s.focal).value;
        if (with_dice) dice.add(z[i], y[i]);
    }
    const double norm = 1.0 / (static_cast<double>(t.valid) + s.eps);
    t.focal = t.valid ? focal_sum * norm : 0.0;
    t.dice = with_dice && t.valid ? dice.loss() : 0.0;
    t.total = s.focal_weight * t.focal + s.dice_weight * t.dice;
    // Pass 2: gradients, exactly 0 where not valid.
    if (grad)
        for (int64_t i = 0; i < n; ++i) {
            if (!valid(i)) {
                grad[i] = 0;
                continue;
            }
            double g = s.focal_weight * lm::focal(z[i], y[i], s.focal).grad * norm;
            if (with_dice) g += s.dice_weight * dice.grad(z[i], y[i]);
            grad[i] = static_cast<float>(g);
        }
    terms = t;
    return t.total;
}

template <bool WithDice> class FocalLoss {
public:
    FocalLoss(const spotflow_host*, const char* params_json) : s_(parse(params_json, WithDice)) {}
    double compute(const spotflow_loss_io& io) { return ::compute(s_, WithDice, io, terms_); }
    int32_t component_count() const { return WithDice ? 3 : 1; }
    void component(int32_t i, const char** name, double* value) const {
        static const char* const names[] = {"focal", "dice", "total"};
        if (!WithDice) {
            *name = "focal";
            *value = terms_.focal;
            return;
        }
        *name = names[i];
        *value = i == 0 ? terms_.focal : i == 1 ? terms_.dice : terms_.total;
    }

private:
    Settings s_;
    Terms terms_;
};

const spotflow_loss_vtable focal_vtable = spotflow::loss_vtable<FocalLoss<false>>();
const spotflow_loss_vtable focal_dice_vtable = spotflow::loss_vtable<FocalLoss<true>>();

const std::string focal_properties = R"(
    "alpha": {"type": "number", "maximum": 1, "default": 0.25,
      "description": "Weight of the positive class (alpha_t = alpha for y = 1, 1 - alpha for y = 0; Lin et al. 2017); a negative value turns the weighting off."},
    "gamma": {"type": "number", "minimum": 0, "default": 2.0, "description": "Focusing exponent: (1 - p_t)^gamma; 0 gives (alpha-weighted) BCE."},
    "pos_weight": {"type": "number", "exclusiveMinimum": 0, "default": 1.0,
      "description": "BCE-with-logits pos_weight: the positive term of the cross-entropy is multiplied by it (> 1 favours recall)."},
    "eps": {"type": "number", "minimum": 0, "default": 1e-08, "description": "The focal sum is divided by (number of valid elements + eps)."})";

const std::string schema_head = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "properties": {)";

const std::string focal_schema = schema_head + focal_properties + "}\n}";

const std::string focal_dice_schema = schema_head + focal_properties + R"(,
    "focal_weight": {"type": "number", "minimum": 0, "default": 0.7, "description": "Weight of the focal term in the total."},
    "dice_weight": {"type": "number", "minimum": 0, "default": 0.3, "description": "Weight of the soft Dice term (1 - Dice) in the total."},
    "dice_smooth": {"type": "number", "minimum": 0, "default": 1.0, "description": "Additive smoothing of the soft Dice ratio, numerator and denominator."}
  }
})";

const spotflow_plugin_desc focal_desc = {
    "loss.focal", "1.0.0", "Sigmoid focal loss on logits (alpha, gamma, pos_weight) over valid elements (target != -1)", "loss",
    nullptr, 0, 0, nullptr, focal_schema.c_str(), nullptr, &focal_vtable,
};
const spotflow_plugin_desc focal_dice_desc = {
    "loss.focal_dice", "1.0.0", "0.7 focal + 0.3 soft Dice on logits over valid elements (target != -1)", "loss",
    nullptr, 0, 0, nullptr, focal_dice_schema.c_str(), nullptr, &focal_dice_vtable,
};

} // namespace

SPOTFLOW_EXPORT_PLUGINS(focal_desc, focal_dice_desc);
