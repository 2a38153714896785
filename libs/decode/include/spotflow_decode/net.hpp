// The DECODE network (Speiser et al. 2021, SigmaMUNet) in LibTorch: a frame
// U-Net shared over the frames t-1, t, t+1, a temporal U-Net over their
// concatenated features (both libs/nn's U-Net: strided-convolution
// downsampling, ELU, no norm), and four heads; and its weights file (libs/nn's
// format). Only the decode plugins include this header (it pulls in torch/nn.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn.h>

#include "spotflow_decode/normalise.hpp"
#include "spotflow_nn/unet.hpp"

namespace decode {

// Everything that fixes the tensors' shapes and the meaning of the outputs.
// Stored in every weights file, so a detector rebuilds the network the
// weights were trained with.
struct NetConfig {
    int frame_channels = 12;    // width of the frame U-Net's first level (doubles per level)
    int frame_depth = 2;        // downsamplings in the frame U-Net
    int temporal_channels = 12; // width of the temporal U-Net's first level
    int temporal_depth = 2;
    int convs_per_level = 2;    // 3x3 convolutions per U-Net level and side
    int head_channels = 12;     // hidden channels of each head
    // What the input is in (normalise.hpp): Poisson-equivalent counts for
    // new networks; weights files without the field are "photons" (before
    // issue 13) and run as they did.
    Normalisation input_normalisation = Normalisation::PoissonCounts;
    // Network input = (units per pixel - input_offset) / input_scale.
    double input_offset = 10;
    double input_scale = 20;
    // Output scaling, in the input's units: signal = out * photon_scale,
    // photons_max caps it; background (units / px) = out * input_scale,
    // capped at background_max.
    double photon_scale = 1000;
    double photons_max = 10000;
    double background_max = 200;

    // Frame sizes must be multiples of this (the detector pads).
    int64_t size_multiple() const { return int64_t{1} << std::max(frame_depth, temporal_depth); }
    nlohmann::json to_json() const;
    // Throws std::invalid_argument naming a missing or bad field.
    static NetConfig from_json(const nlohmann::json& j);
};

// Output channels, after the activations (see README.md).
enum Channel : int64_t {
    kProb = 0,        // detection probability, sigmoid of a logit clamped to +-8
    kPhotons = 1,     // photons / photon_scale
    kDx = 2,          // x offset from the pixel centre, px, in (-1, 1)
    kDy = 3,          // y offset, px
    kSigPhotons = 4,  // sigma of photons / photon_scale
    kSigX = 5,        // sigma of x, px
    kSigY = 6,        // sigma of y, px
    kBackground = 7,  // background photons / px / input_scale
    kChannels = 8
};

class DecodeNetImpl : public torch::nn::Module {
public:
    explicit DecodeNetImpl(const NetConfig& c);

    // x: B x 1 x H x W normalised frames -> B x C x H x W features. Applied to
    // every frame once; a window reuses the features of its neighbours.
    torch::Tensor frame_features(const torch::Tensor& x);
    // prev, cur, next: B x C x H x W features -> B x kChannels x H x W outputs.
    torch::Tensor outputs(const torch::Tensor& prev, const torch::Tensor& cur, const torch::Tensor& next);
    // x: B x 3 x H x W (t-1, t, t+1), normalised -> B x kChannels x H x W.
    torch::Tensor forward(const torch::Tensor& x);

    const NetConfig& config() const { return cfg_; }
    // Stores the convolution weights channels-last (NHWC), oneDNN's native
    // layout on the CPU: no reorder per call. Inputs should follow.
    void to_channels_last();
    // Multiply-adds per pixel of one output frame when each frame's features
    // are computed once (streamed inference), and when all three are
    // recomputed per window (training).
    int64_t macs_per_pixel_streamed() const;
    int64_t macs_per_pixel_window() const;

private:
    NetConfig cfg_;
    spotflow::nn::UNet frame_{nullptr}, temporal_{nullptr};
    torch::nn::Conv2d head_hidden_{nullptr}, head_out_{nullptr};
};
TORCH_MODULE(DecodeNet);

// Parameters in a fixed order with their names, for the weights file.
std::vector<std::pair<std::string, torch::Tensor>> named_parameters(DecodeNet& net);

// Writes net, its NetConfig as the file's network description and metadata
// as its model card (training recipe, scores) to path, in libs/nn's weights
// format. Throws std::runtime_error naming the file.
void save_weights(DecodeNet& net, const nlohmann::json& metadata, const std::string& path);

struct Loaded {
    DecodeNet net{nullptr};
    nlohmann::json metadata; // the model card
};

// Reads a weights file and builds its network. Throws std::runtime_error
// with one line: "weights file '<path>': <what is wrong>". Thread-safe.
Loaded load_weights(const std::string& path);

} // namespace decode
