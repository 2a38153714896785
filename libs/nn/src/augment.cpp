#include "spotflow_nn/augment.hpp"

#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

namespace spotflow::nn {

Geometric Geometric::inverse() const {
    // (R^k F)^-1 = F R^-k = R^k F for a flip (F R F = R^-1); without a flip, R^-k.
    return flip_x ? *this : Geometric{false, (4 - rotations) % 4};
}

torch::Tensor Geometric::apply(const torch::Tensor& images) const {
    if (images.dim() < 2) throw std::invalid_argument("augmentation: images need at least 2 dimensions");
    if (rotations % 2 && images.size(-1) != images.size(-2))
        throw std::invalid_argument("augmentation: a quarter turn needs square frames");
    torch::Tensor x = flip_x ? images.flip({-1}) : images;
    if (rotations % 4) x = torch::rot90(x, rotations % 4, {-2, -1});
    return x.contiguous();
}

torch::Tensor Geometric::apply_points(const torch::Tensor& points, int64_t w, int64_t h) const {
    if (points.dim() != 2 || points.size(1) < 2) throw std::invalid_argument("augmentation: points must be N x >=2");
    auto out = points.clone();
    auto x = out.select(1, 0), y = out.select(1, 1);
    if (flip_x) x.copy_(static_cast<double>(w - 1) - x);
    // A counter-clockwise quarter turn of the (row, column) plane sends
    // (row, col) to (W - 1 - col, row): x' = y, y' = W - 1 - x.
    for (int k = 0; k < rotations % 4; ++k) {
        const auto nx = y.clone(), ny = static_cast<double>(w - 1) - x;
        x.copy_(nx);
        y.copy_(ny);
        std::swap(w, h);
    }
    return out;
}

Augmentation draw_augmentation(const AugmentOptions& o, std::mt19937_64& rng) {
    Augmentation a;
    std::uniform_int_distribution<int> coin(0, 1), quarter(0, 3);
    a.geometric.flip_x = o.flips && coin(rng);
    a.geometric.rotations = o.rotations ? quarter(rng) : 0;
    if (o.gain_max > o.gain_min)
        a.photometric.gain = std::exp(std::uniform_real_distribution<double>(std::log(o.gain_min), std::log(o.gain_max))(rng));
    else a.photometric.gain = o.gain_min;
    a.photometric.offset = o.offset_max > o.offset_min ? std::uniform_real_distribution<double>(o.offset_min, o.offset_max)(rng)
                                                       : o.offset_min;
    return a;
}

} // namespace spotflow::nn
