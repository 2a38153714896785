#include "spotflow_nn/unet.hpp"

#include <stdexcept>
#include <utility>
#include <vector>

namespace spotflow::nn {

namespace tnn = torch::nn;

namespace {

tnn::Conv2d conv(int in, int out, int k, int stride = 1) {
    return tnn::Conv2d(tnn::Conv2dOptions(in, out, k).stride(stride).padding(k == 3 ? 1 : 0));
}
int64_t conv_macs(int in, int out, int k) { return int64_t{in} * out * k * k; }

void push_activation(tnn::Sequential& s, Activation a) {
    if (a == Activation::Elu) s->push_back(tnn::ELU(tnn::ELUOptions().inplace(true)));
    else s->push_back(tnn::ReLU(tnn::ReLUOptions().inplace(true)));
}

const char* name(Activation a) { return a == Activation::Elu ? "elu" : "relu"; }
const char* name(Downsample d) { return d == Downsample::StridedConv ? "strided_conv" : "max_pool"; }
const char* name(Norm n) { return n == Norm::None ? "none" : "batch"; }

} // namespace

nlohmann::json UNetOptions::to_json() const {
    return {{"in_channels", in_channels},       {"out_channels", out_channels}, {"base_channels", base_channels},
            {"depth", depth},                   {"convs_per_level", convs_per_level},
            {"activation", name(activation)},   {"downsample", name(downsample)}, {"norm", name(norm)}};
}

UNetOptions UNetOptions::from_json(const nlohmann::json& j) {
    if (!j.is_object()) throw std::invalid_argument("the U-Net description is not a JSON object");
    UNetOptions o;
    const auto get_int = [&](const char* k, int lo, int hi, int def) {
        if (!j.contains(k)) return def;
        if (!j[k].is_number_integer()) throw std::invalid_argument(std::string("field '") + k + "' is not an integer");
        const int v = j[k].get<int>();
        if (v < lo || v > hi)
            throw std::invalid_argument(std::string("field '") + k + "' is " + std::to_string(v) + ", outside [" +
                                        std::to_string(lo) + ", " + std::to_string(hi) + "]");
        return v;
    };
    const auto get_enum = [&](const char* k, const char* a, const char* b, bool def_first) {
        if (!j.contains(k)) return def_first;
        const std::string v = j[k].is_string() ? j[k].get<std::string>() : std::string();
        if (v != a && v != b)
            throw std::invalid_argument(std::string("field '") + k + "' must be \"" + a + "\" or \"" + b + "\"");
        return v == a;
    };
    o.in_channels = get_int("in_channels", 1, 4096, o.in_channels);
    o.out_channels = get_int("out_channels", 0, 4096, o.out_channels);
    o.base_channels = get_int("base_channels", 1, 1024, o.base_channels);
    o.depth = get_int("depth", 0, 6, o.depth);
    o.convs_per_level = get_int("convs_per_level", 1, 4, o.convs_per_level);
    o.activation = get_enum("activation", "elu", "relu", true) ? Activation::Elu : Activation::Relu;
    o.downsample = get_enum("downsample", "strided_conv", "max_pool", true) ? Downsample::StridedConv : Downsample::MaxPool;
    o.norm = get_enum("norm", "none", "batch", true) ? Norm::None : Norm::Batch;
    return o;
}

tnn::Sequential conv_block(int in, int out, int convs, Activation act, Norm norm, int64_t* macs) {
    tnn::Sequential s;
    for (int k = 0; k < convs; ++k) {
        const int i = k == 0 ? in : out;
        s->push_back(conv(i, out, 3));
        if (norm == Norm::Batch) s->push_back(tnn::BatchNorm2d(out));
        push_activation(s, act);
        if (macs) *macs += conv_macs(i, out, 3);
    }
    return s;
}

namespace {

// The encoder's levels into enc / down (down only for strided
// convolutions), adding its multiply-adds per full-resolution pixel to
// *macs; returns the bottleneck's channels. Shared by UNet and UNetEncoder.
int build_encoder(const UNetOptions& o, tnn::ModuleList& enc, tnn::ModuleList& down, int64_t* macs) {
    if (o.depth < 0 || o.base_channels < 1 || o.in_channels < 1 || o.convs_per_level < 1)
        throw std::invalid_argument("U-Net: depth must be >= 0 and the channel and convolution counts >= 1");
    const bool strided = o.downsample == Downsample::StridedConv;
    int ch = o.base_channels;
    int64_t area = 1; // full-resolution pixels per pixel at this level
    for (int l = 0; l <= o.depth; ++l) {
        int64_t m = 0;
        const int in = l == 0 ? o.in_channels : (strided ? ch : ch / 2);
        enc->push_back(conv_block(in, ch, o.convs_per_level, o.activation, o.norm, &m));
        *macs += m / area;
        if (l < o.depth) {
            area *= 4;
            if (strided) {
                tnn::Sequential d(conv(ch, ch * 2, 2, 2));
                push_activation(d, o.activation);
                down->push_back(d);
                *macs += conv_macs(ch, ch * 2, 2) / area;
            }
            ch *= 2;
        }
    }
    return ch;
}

// The decoder's levels into up / dec, from the bottleneck's `ch` channels.
void build_decoder(const UNetOptions& o, int ch, tnn::ModuleList& up, tnn::ModuleList& dec, int64_t* macs) {
    int64_t area = int64_t{1} << (2 * o.depth);
    for (int l = o.depth - 1; l >= 0; --l) {
        up->push_back(conv(ch, ch / 2, 1));
        area /= 4;
        *macs += conv_macs(ch, ch / 2, 1) / area;
        ch /= 2;
        int64_t m = 0;
        dec->push_back(conv_block(2 * ch, ch, o.convs_per_level, o.activation, o.norm, &m));
        *macs += m / area;
    }
}

void check_input(const UNetOptions& o, const torch::Tensor& x) {
    if (x.dim() != 4 || x.size(1) != o.in_channels || x.size(2) % o.size_multiple() || x.size(3) % o.size_multiple())
        throw std::invalid_argument("U-Net: input of shape " + std::string(c10::str(x.sizes())) + ", expected B x " +
                                    std::to_string(o.in_channels) + " x H x W with H and W multiples of " +
                                    std::to_string(o.size_multiple()));
}

// Every level's features, full resolution first, the bottleneck last.
std::vector<torch::Tensor> run_encoder(const UNetOptions& o, tnn::ModuleList& enc, tnn::ModuleList& down, torch::Tensor x) {
    check_input(o, x);
    std::vector<torch::Tensor> levels;
    for (int l = 0; l <= o.depth; ++l) {
        x = enc[static_cast<size_t>(l)]->as<tnn::Sequential>()->forward(x);
        levels.push_back(x);
        if (l < o.depth)
            x = o.downsample == Downsample::StridedConv ? down[static_cast<size_t>(l)]->as<tnn::Sequential>()->forward(x)
                                                        : torch::max_pool2d(x, 2);
    }
    return levels;
}

torch::Tensor run_decoder(const UNetOptions& o, tnn::ModuleList& up, tnn::ModuleList& dec,
                          const std::vector<torch::Tensor>& levels) {
    if (levels.size() != static_cast<size_t>(o.depth) + 1)
        throw std::invalid_argument("U-Net decoder: " + std::to_string(levels.size()) + " encoder levels, expected " +
                                    std::to_string(o.depth + 1));
    torch::Tensor x = levels.back();
    for (int l = 0; l < o.depth; ++l) {
        x = torch::upsample_nearest2d(x, std::vector<int64_t>{x.size(2) * 2, x.size(3) * 2});
        x = up[static_cast<size_t>(l)]->as<tnn::Conv2d>()->forward(x);
        x = torch::cat({x, levels[static_cast<size_t>(o.depth - 1 - l)]}, 1);
        x = dec[static_cast<size_t>(l)]->as<tnn::Sequential>()->forward(x);
    }
    return x;
}

} // namespace

// Modules are built in the order enc 0, down 0, enc 1, ..., up, dec: the
// random initialisation, drawn in construction order, is then the same for
// a given seed as detect.decode's original network.
UNetImpl::UNetImpl(const UNetOptions& o) : opt_(o) {
    enc_ = register_module("enc", tnn::ModuleList());
    down_ = register_module("down", tnn::ModuleList());
    up_ = register_module("up", tnn::ModuleList());
    dec_ = register_module("dec", tnn::ModuleList());
    const int bottleneck = build_encoder(o, enc_, down_, &macs_);
    build_decoder(o, bottleneck, up_, dec_, &macs_);
    if (o.out_channels > 0) {
        out_ = register_module("out", conv(o.base_channels, o.out_channels, 1));
        macs_ += conv_macs(o.base_channels, o.out_channels, 1);
    }
}

torch::Tensor UNetImpl::forward(torch::Tensor x) {
    const torch::Tensor y = run_decoder(opt_, up_, dec_, run_encoder(opt_, enc_, down_, std::move(x)));
    return out_.is_empty() ? y : out_->forward(y);
}

UNetEncoderImpl::UNetEncoderImpl(const UNetOptions& o) : opt_(o) {
    enc_ = register_module("enc", tnn::ModuleList());
    down_ = register_module("down", tnn::ModuleList());
    build_encoder(o, enc_, down_, &macs_);
}

std::vector<torch::Tensor> UNetEncoderImpl::forward(torch::Tensor x) { return run_encoder(opt_, enc_, down_, std::move(x)); }

UNetDecoderImpl::UNetDecoderImpl(const UNetOptions& o) : opt_(o) {
    up_ = register_module("up", tnn::ModuleList());
    dec_ = register_module("dec", tnn::ModuleList());
    build_decoder(o, o.base_channels << o.depth, up_, dec_, &macs_);
}

torch::Tensor UNetDecoderImpl::forward(const std::vector<torch::Tensor>& levels) {
    return run_decoder(opt_, up_, dec_, levels);
}

} // namespace spotflow::nn
