// The hybrid localisation + calcium network of seed 001: one U-Net encoder
// shared by two decoders. Input: a window of `frames` consecutive frames
// (5), each with 1 (puncta) or 2 (puncta + calcium) channels, stacked frame
// by frame; output for the window's centre frame: DECODE's eight channels
// (probability, photons, sub-pixel offsets, their sigmas, background; the
// same activations and units as detect.decode) from the localisation
// decoder, and one calcium-event logit per pixel from the calcium decoder.
// Includes LibTorch: only model code includes this header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn.h>

#include "spotflow_nn/unet.hpp"
#include "spotflow_nn/weights.hpp"

namespace spotflow::nn {

struct HybridOptions {
    int in_channels = 1;             // per frame: 1 puncta, 2 puncta + calcium
    int frames = 5;                  // temporal window (odd); the output is its centre frame
    int base_channels = 16;          // encoder width at full resolution, doubling per level
    int depth = 4;                   // downsamplings (frame sizes: multiples of 2^depth)
    int convs_per_level = 2;         // encoder and localisation decoder
    int calcium_convs_per_level = 1; // calcium decoder (a lighter task)
    int head_channels = 16;          // hidden channels of the localisation head
    // Input normalisation per channel: (photons per pixel - offset) / scale.
    double input_offset = 10, input_scale = 20;                 // puncta
    double calcium_offset = 10, calcium_scale = 40;             // calcium
    // DECODE's output scaling: photons = out * photon_scale, capped.
    double photon_scale = 1000, photons_max = 10000, background_max = 200;

    int64_t size_multiple() const { return int64_t{1} << depth; }
    UNetOptions encoder() const;
    nlohmann::json to_json() const;   // {"architecture": "hybrid", ...}
    // Throws std::invalid_argument naming a bad field or another architecture.
    static HybridOptions from_json(const nlohmann::json& j);
};

// Output channels of localisation(), as detect.decode's.
enum HybridChannel : int64_t {
    kHProb = 0, kHPhotons = 1, kHDx = 2, kHDy = 3, kHSigPhotons = 4, kHSigX = 5, kHSigY = 6, kHBackground = 7,
    kHChannels = 8
};

struct HybridOutput {
    torch::Tensor localisation; // B x 8 x H x W, after the activations
    torch::Tensor calcium;      // B x 1 x H x W, logits (sigmoid: the event probability)
};

// Names: "encoder.enc.<l>", "encoder.down.<l>", "localisation.up/dec.<l>",
// "localisation_head.hidden", "localisation_head.out", "calcium.up/dec.<l>",
// "calcium_head.out".
class HybridNetImpl : public torch::nn::Module {
public:
    explicit HybridNetImpl(const HybridOptions& o);
    // x: B x (frames * in_channels) x H x W, normalised (normalise()).
    HybridOutput forward(const torch::Tensor& x);
    // Photons per pixel, B x frames x in_channels x H x W (or without B) ->
    // the network's input.
    torch::Tensor normalise(const torch::Tensor& photons) const;
    const HybridOptions& options() const { return o_; }
    // The encoder's parameters (for freeze_encoder and the optimiser groups).
    std::vector<torch::Tensor> encoder_parameters();
    std::vector<torch::Tensor> localisation_parameters();
    std::vector<torch::Tensor> calcium_parameters();
    int64_t macs_per_pixel() const;

private:
    HybridOptions o_;
    UNetEncoder encoder_{nullptr};
    UNetDecoder loc_{nullptr}, ca_{nullptr};
    torch::nn::Sequential loc_head_{nullptr}, ca_head_{nullptr};
};
TORCH_MODULE(HybridNet);

// One detection of the hybrid network in one frame.
struct HybridDetection {
    double x = 0, y = 0;                  // px: pixel centre + predicted offset
    double probability = 0;               // p summed over the 3 x 3 pixels around the candidate, at most 1
    double photons = 0, sigma_photons = 0; // photons (x photon_scale)
    double sigma_x = 0, sigma_y = 0;      // px
    double background = 0;                // photons / px
    double calcium_probability = 0;       // sigmoid of the calcium logit at the pixel (0 without a calcium output)
};

// The detections of one frame's outputs (localisation 8 x H x W, calcium
// 1 x H x W or undefined), within the first `height` rows and `width`
// columns (the frame before padding): candidates are 3 x 3 local maxima of p
// at or above candidate_threshold; a candidate whose p summed over its 3 x 3
// pixels (DECODE's spatial integration: an emitter near a pixel corner
// spreads p over several pixels) reaches `threshold` is a detection, at the
// candidate pixel's centre plus its offset. train.hybrid's validation and
// detect.hybrid both use it.
std::vector<HybridDetection> hybrid_detections(const torch::Tensor& localisation, const torch::Tensor& calcium,
                                               const HybridOptions& o, double threshold, int64_t height, int64_t width,
                                               double candidate_threshold = 0.1);

// What of a pretrained file to copy into a network.
enum class Pretrained { Encoder, EncoderAndLocalisation, All };

// Copies the part of `file` (a hybrid network's weights) into net. The file's
// network must be a hybrid one with the same frames, widths and depth;
// a 1-channel file may go into a 2-channel net: the puncta input weights are
// copied and the calcium input weights set to 0, so the network computes
// what it computed on the puncta alone. Throws std::runtime_error
// "weights file '<path>': another architecture: <the difference>".
void load_pretrained(const WeightFile& file, HybridNet& net, Pretrained part);

} // namespace spotflow::nn
