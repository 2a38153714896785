#include "spotflow_decode/net.hpp"

#include "spotflow_nn/weights.hpp"

#include <cmath>
#include <stdexcept>

namespace decode {

namespace nn = torch::nn;

nlohmann::json NetConfig::to_json() const {
    return {{"architecture", "decode-sigma-unet-2d"},
            {"frame_channels", frame_channels},
            {"frame_depth", frame_depth},
            {"temporal_channels", temporal_channels},
            {"temporal_depth", temporal_depth},
            {"convs_per_level", convs_per_level},
            {"head_channels", head_channels},
            {"input_normalisation", normalisation_name(input_normalisation)},
            {"input_offset", input_offset},
            {"input_scale", input_scale},
            {"photon_scale", photon_scale},
            {"photons_max", photons_max},
            {"background_max", background_max}};
}

NetConfig NetConfig::from_json(const nlohmann::json& j) {
    if (!j.is_object()) throw std::invalid_argument("the network description is not a JSON object");
    const auto arch = j.value("architecture", std::string());
    if (arch != "decode-sigma-unet-2d")
        throw std::invalid_argument("architecture '" + arch + "' is not decode-sigma-unet-2d");
    NetConfig c;
    auto get_int = [&](const char* k, int lo, int hi) {
        if (!j.contains(k) || !j[k].is_number_integer()) throw std::invalid_argument(std::string("field '") + k + "' is missing");
        const int v = j[k].get<int>();
        if (v < lo || v > hi)
            throw std::invalid_argument(std::string("field '") + k + "' is " + std::to_string(v) + ", outside [" +
                                        std::to_string(lo) + ", " + std::to_string(hi) + "]");
        return v;
    };
    auto get_num = [&](const char* k) {
        if (!j.contains(k) || !j[k].is_number()) throw std::invalid_argument(std::string("field '") + k + "' is missing");
        const double v = j[k].get<double>();
        if (!(v > 0) && std::string(k) != "input_offset")
            throw std::invalid_argument(std::string("field '") + k + "' must be > 0");
        return v;
    };
    c.frame_channels = get_int("frame_channels", 1, 512);
    c.frame_depth = get_int("frame_depth", 0, 5);
    c.temporal_channels = get_int("temporal_channels", 1, 512);
    c.temporal_depth = get_int("temporal_depth", 0, 5);
    c.convs_per_level = get_int("convs_per_level", 1, 4);
    c.head_channels = get_int("head_channels", 1, 512);
    // Files written before issue 13 have no field: photons.
    c.input_normalisation = normalisation_from(j.value("input_normalisation", std::string("photons")));
    c.input_offset = get_num("input_offset");
    c.input_scale = get_num("input_scale");
    c.photon_scale = get_num("photon_scale");
    c.photons_max = get_num("photons_max");
    c.background_max = get_num("background_max");
    return c;
}

namespace {
nn::Conv2d conv(int in, int out, int k, int stride = 1, int groups = 1) {
    return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(k == 3 ? 1 : 0).groups(groups));
}
int64_t conv_macs(int in, int out, int k, int groups = 1) { return int64_t{in} * out * k * k / groups; }

// DECODE's U-Net: ELU throughout, 2x2 stride-2 convolutions down, nearest
// x2 + 1x1 convolution up, skip connections by concatenation, no norm.
spotflow::nn::UNetOptions unet(int in_channels, int channels, int depth, int convs) {
    spotflow::nn::UNetOptions o;
    o.in_channels = in_channels;
    o.base_channels = channels;
    o.depth = depth;
    o.convs_per_level = convs;
    o.activation = spotflow::nn::Activation::Elu;
    o.downsample = spotflow::nn::Downsample::StridedConv;
    o.norm = spotflow::nn::Norm::None;
    return o;
}
} // namespace

DecodeNetImpl::DecodeNetImpl(const NetConfig& c) : cfg_(c) {
    frame_ = register_module("frame", spotflow::nn::UNet(unet(1, c.frame_channels, c.frame_depth, c.convs_per_level)));
    temporal_ = register_module("temporal", spotflow::nn::UNet(unet(3 * c.frame_channels, c.temporal_channels,
                                                                    c.temporal_depth, c.convs_per_level)));
    // The four heads of DECODE (p; photons, x, y; their sigmas; background),
    // each a 3x3 conv + ELU + 1x1 conv, run as one conv into 4 x hidden
    // channels and one grouped 1x1 conv of 3 outputs per head: the same
    // function as four separate heads, in two kernel calls instead of eight.
    head_hidden_ = register_module("head_hidden", conv(c.temporal_channels, 4 * c.head_channels, 3));
    head_out_ = register_module("head_out", conv(4 * c.head_channels, 12, 1, 1, 4));
    torch::NoGradGuard ng;
    // As DECODE: p starts near 0 (logit bias -6), so the first steps do not
    // flood the count term with false positives.
    head_out_->bias[0].fill_(-6.0);
    // The background starts at input_scale photons per pixel (output 1)
    // rather than background_max / 2: its squared error, summed over the
    // pixels, would otherwise swamp the first steps.
    const double b0 = 1.0 / (c.background_max / c.input_scale);
    head_out_->bias[9].fill_(std::log(b0 / (1 - b0)));
}

torch::Tensor DecodeNetImpl::frame_features(const torch::Tensor& x) { return frame_->forward(x); }

torch::Tensor DecodeNetImpl::outputs(const torch::Tensor& prev, const torch::Tensor& cur, const torch::Tensor& next) {
    auto h = temporal_->forward(torch::cat({prev, cur, next}, 1));
    h = head_hidden_->forward(h);
    torch::elu_(h);
    // Plain NCHW before the activations: on a channels-last tensor the
    // channel slices are strided and the element-wise kernels run scalar.
    const auto o = head_out_->forward(h).contiguous();
    const auto sl = [&](int64_t i, int64_t n = 1) { return o.narrow(1, i, n); };
    const double pmax = cfg_.photons_max / cfg_.photon_scale;
    const double bmax = cfg_.background_max / cfg_.input_scale;
    return torch::cat({torch::sigmoid(torch::clamp(sl(0), -8.0, 8.0)),
                       torch::sigmoid(sl(3)) * pmax,
                       torch::tanh(sl(4, 2)),
                       torch::sigmoid(sl(6, 3)) * 3.0 + 0.001,
                       torch::sigmoid(sl(9)) * bmax},
                      1);
}

torch::Tensor DecodeNetImpl::forward(const torch::Tensor& x) {
    const int64_t b = x.size(0), h = x.size(2), w = x.size(3);
    // The three frames of every window through the shared frame U-Net in one batch.
    const auto f = frame_features(x.reshape({b * 3, 1, h, w})).reshape({b, 3, -1, h, w});
    return outputs(f.select(1, 0), f.select(1, 1), f.select(1, 2));
}

void DecodeNetImpl::to_channels_last() {
    torch::NoGradGuard ng;
    for (auto& p : parameters())
        if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
}

int64_t DecodeNetImpl::macs_per_pixel_streamed() const {
    const int64_t heads = conv_macs(cfg_.temporal_channels, 4 * cfg_.head_channels, 3) +
                          conv_macs(4 * cfg_.head_channels, 12, 1, 4);
    return frame_->macs_per_pixel() + temporal_->macs_per_pixel() + heads;
}

int64_t DecodeNetImpl::macs_per_pixel_window() const {
    return macs_per_pixel_streamed() + 2 * frame_->macs_per_pixel();
}

std::vector<std::pair<std::string, torch::Tensor>> named_parameters(DecodeNet& net) {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& p : net->named_parameters(true)) out.emplace_back(p.key(), p.value());
    return out;
}

void save_weights(DecodeNet& net, const nlohmann::json& metadata, const std::string& path) {
    spotflow::nn::save_weights(path, net->config().to_json(), named_parameters(net), metadata);
}

Loaded load_weights(const std::string& path) {
    const auto file = spotflow::nn::read_weights(path);
    NetConfig cfg;
    try {
        cfg = NetConfig::from_json(file.network);
    } catch (const std::exception& e) {
        throw std::runtime_error("weights file '" + path + "': another architecture: " + e.what());
    }
    Loaded out;
    out.net = DecodeNet(cfg);
    out.metadata = file.model_card;
    spotflow::nn::load_into(file, *out.net);
    return out;
}

} // namespace decode
