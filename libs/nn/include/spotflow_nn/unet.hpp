// Convolution blocks and a configurable U-Net, the building blocks of the
// model plugins (detect.decode's frame and temporal U-Nets, the segmentation
// U-Nets). Includes LibTorch: only model code includes this header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn.h>

namespace spotflow::nn {

enum class Activation { Elu, Relu };
// How a level halves the resolution: a 2x2 stride-2 convolution that doubles
// the channels, followed by the activation (DECODE), or a 2x2 max pool, the
// next level's first convolution doubling them (Ronneberger et al.).
enum class Downsample { StridedConv, MaxPool };
enum class Norm { None, Batch };

struct UNetOptions {
    int in_channels = 1;
    int out_channels = 0;     // > 0: a final 1x1 convolution to this many channels; 0: the top level's features
    int base_channels = 16;   // width of the first level; doubles per level
    int depth = 2;            // downsamplings
    int convs_per_level = 2;  // 3x3 convolutions per level and side
    Activation activation = Activation::Elu;
    Downsample downsample = Downsample::StridedConv;
    Norm norm = Norm::None;

    // Frame sizes must be multiples of this.
    int64_t size_multiple() const { return int64_t{1} << depth; }
    nlohmann::json to_json() const;
    // Throws std::invalid_argument naming a bad field; missing fields keep
    // their defaults.
    static UNetOptions from_json(const nlohmann::json& j);
};

// `convs` times [3x3 convolution (padding 1), optional batch norm, activation];
// the first convolution maps in -> out channels. The Sequential's children
// are named "0", "1", ... in that order (weights files use these names).
// Adds the block's multiply-adds per pixel to *macs if given.
torch::nn::Sequential conv_block(int in, int out, int convs, Activation act, Norm norm, int64_t* macs = nullptr);

// The U-Net: encoder levels "enc.<l>", downsamplings "down.<l>" (strided
// convolutions only), nearest x2 upsampling + 1x1 convolution "up.<l>",
// concatenation with the skip, decoder blocks "dec.<l>", then "out" if
// out_channels > 0. Not thread-safe for concurrent forward calls on one
// instance in training mode (batch norm statistics); owned by its holder.
class UNetImpl : public torch::nn::Module {
public:
    explicit UNetImpl(const UNetOptions& o);
    // x: B x in_channels x H x W, H and W multiples of size_multiple().
    torch::Tensor forward(torch::Tensor x);
    const UNetOptions& options() const { return opt_; }
    // Channels of forward's result.
    int output_channels() const { return opt_.out_channels > 0 ? opt_.out_channels : opt_.base_channels; }
    // Multiply-adds per full-resolution pixel of one forward pass.
    int64_t macs_per_pixel() const { return macs_; }

private:
    UNetOptions opt_;
    torch::nn::ModuleList enc_, down_, up_, dec_;
    torch::nn::Conv2d out_{nullptr};
    int64_t macs_ = 0;
};
TORCH_MODULE(UNet);

// A U-Net's two halves as modules of their own, for networks that share one
// encoder between several decoders (the hybrid localisation + calcium
// network). Built by the same code as UNet, so an encoder + decoder of the
// same options compute what UNet computes (without "out"). Names: the
// encoder's "enc.<l>", "down.<l>"; the decoder's "up.<l>", "dec.<l>".
class UNetEncoderImpl : public torch::nn::Module {
public:
    explicit UNetEncoderImpl(const UNetOptions& o);
    // x: B x in_channels x H x W -> every level's features, full resolution
    // first (base_channels), the bottleneck last (base_channels << depth).
    std::vector<torch::Tensor> forward(torch::Tensor x);
    const UNetOptions& options() const { return opt_; }
    int64_t macs_per_pixel() const { return macs_; }

private:
    UNetOptions opt_;
    torch::nn::ModuleList enc_, down_;
    int64_t macs_ = 0;
};
TORCH_MODULE(UNetEncoder);

class UNetDecoderImpl : public torch::nn::Module {
public:
    // o: the encoder's options (its depth and widths; convs_per_level,
    // activation and norm may differ from the encoder's).
    explicit UNetDecoderImpl(const UNetOptions& o);
    // levels: an encoder's forward -> B x base_channels x H x W.
    torch::Tensor forward(const std::vector<torch::Tensor>& levels);
    int64_t macs_per_pixel() const { return macs_; }

private:
    UNetOptions opt_;
    torch::nn::ModuleList up_, dec_;
    int64_t macs_ = 0;
};
TORCH_MODULE(UNetDecoder);

} // namespace spotflow::nn
