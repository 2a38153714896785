// spotflow_lossmath/focal_dice.hpp: the per-element maths of the focal loss
// and of the soft Dice loss on logits, the one home for them (loss.focal,
// loss.focal_dice, any trainer that needs them without a plugin). Plain
// C++, header-only, no LibTorch. Definitions: libs/lossmath/README.md.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace spotflow::lossmath {

// log(1 + exp(x)) without overflow for large x nor loss of digits for very negative x.
inline double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

// sigmoid(x), never overflowing.
inline double sigmoid(double x) {
    const double e = std::exp(-std::abs(x));
    return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}

struct FocalParams {
    double alpha = 0.25;    // weight of the positive class, 1 - alpha for the negative (alpha_t); < 0: no alpha weighting
    double gamma = 2.0;     // focusing exponent, >= 0
    double pos_weight = 1;  // BCE-with-logits pos_weight on the positive term of the cross-entropy
};

struct ElementLoss {
    double value = 0; // the loss of the element
    double grad = 0;  // d value / d logit
};

// The sigmoid focal loss of one logit z against a target y in [0, 1]
// (Lin et al. 2017, RetinaNet; torchvision.ops.sigmoid_focal_loss), with
// the cross-entropy term that of BCEWithLogits(pos_weight = p):
//   s = sigmoid(z), ce = (1 - y) z + (1 + (p - 1) y) softplus(-z)
//   p_t = s y + (1 - s)(1 - y), alpha_t = alpha y + (1 - alpha)(1 - y)
//   FL = alpha_t (1 - p_t)^gamma ce
// and its exact derivative with respect to z.
inline ElementLoss focal(double z, double y, const FocalParams& f) {
    const double s = sigmoid(z), sm = sigmoid(-z); // s and 1 - s, each to full precision
    const double w = 1 + (f.pos_weight - 1) * y;
    const double ce = (1 - y) * z + w * softplus(-z);
    const double dce = (1 - y) - w * sm;
    const double q = s * (1 - y) + sm * y; // 1 - p_t
    const double dq = -s * sm * (2 * y - 1); // d(1 - p_t)/dz = -dp_t/dz
    double mod = 1, dmod = 0;
    if (f.gamma != 0) {
        mod = std::pow(q, f.gamma);
        // gamma (1 - p_t)^(gamma - 1) d(1 - p_t)/dz; 0 where 1 - p_t is 0 (dq is then 0 too).
        dmod = q > 0 ? f.gamma * std::pow(q, f.gamma - 1) * dq : 0;
    }
    const double a = f.alpha < 0 ? 1 : f.alpha * y + (1 - f.alpha) * (1 - y);
    return {a * mod * ce, a * (dmod * ce + mod * dce)};
}

// The soft Dice loss over a set of elements, accumulated in two passes:
//   D = (2 sum(s y) + smooth) / (sum(s) + sum(y) + smooth), loss = 1 - D
// (Milletari et al. 2016, V-Net, with the additive smoothing of common
// implementations); s = sigmoid(z).
struct SoftDice {
    double smooth = 1.0;
    double inter = 0, sum_s = 0, sum_y = 0;

    void add(double z, double y) {
        const double s = sigmoid(z);
        inter += s * y;
        sum_s += s;
        sum_y += y;
    }
    double loss() const {
        const double den = sum_s + sum_y + smooth;
        return den > 0 ? 1 - (2 * inter + smooth) / den : 0;
    }
    // d loss / d z of an element added with (z, y), after every add.
    double grad(double z, double y) const {
        const double den = sum_s + sum_y + smooth;
        if (!(den > 0)) return 0;
        const double s = sigmoid(z);
        const double dD_ds = (2 * y * den - (2 * inter + smooth)) / (den * den);
        return -dD_ds * s * (1 - s);
    }
};

} // namespace spotflow::lossmath
