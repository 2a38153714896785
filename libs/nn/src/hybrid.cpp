#include "spotflow_nn/hybrid.hpp"

#include <algorithm>
#include <stdexcept>

#include <torch/torch.h>

namespace spotflow::nn {

namespace tnn = torch::nn;

UNetOptions HybridOptions::encoder() const {
    UNetOptions u;
    u.in_channels = in_channels * frames;
    u.base_channels = base_channels;
    u.depth = depth;
    u.convs_per_level = convs_per_level;
    u.activation = Activation::Elu;
    u.downsample = Downsample::StridedConv;
    u.norm = Norm::None;
    return u;
}

nlohmann::json HybridOptions::to_json() const {
    return {{"architecture", "hybrid"},
            {"in_channels", in_channels},
            {"frames", frames},
            {"base_channels", base_channels},
            {"depth", depth},
            {"convs_per_level", convs_per_level},
            {"calcium_convs_per_level", calcium_convs_per_level},
            {"head_channels", head_channels},
            {"input_offset", input_offset},
            {"input_scale", input_scale},
            {"calcium_offset", calcium_offset},
            {"calcium_scale", calcium_scale},
            {"photon_scale", photon_scale},
            {"photons_max", photons_max},
            {"background_max", background_max}};
}

HybridOptions HybridOptions::from_json(const nlohmann::json& j) {
    if (!j.is_object()) throw std::invalid_argument("the network description is not a JSON object");
    const std::string arch = j.value("architecture", std::string("(none)"));
    if (arch != "hybrid") throw std::invalid_argument("a '" + arch + "' network, not a hybrid one");
    HybridOptions o;
    const auto get_int = [&](const char* k, int lo, int hi, int& v) {
        if (!j.contains(k)) return;
        if (!j[k].is_number_integer()) throw std::invalid_argument(std::string("field '") + k + "' is not an integer");
        v = j[k].get<int>();
        if (v < lo || v > hi)
            throw std::invalid_argument(std::string("field '") + k + "' is " + std::to_string(v) + ", outside [" +
                                        std::to_string(lo) + ", " + std::to_string(hi) + "]");
    };
    const auto get_num = [&](const char* k, double& v, bool positive) {
        if (!j.contains(k)) return;
        if (!j[k].is_number()) throw std::invalid_argument(std::string("field '") + k + "' is not a number");
        v = j[k].get<double>();
        if (!std::isfinite(v) || (positive && !(v > 0)))
            throw std::invalid_argument(std::string("field '") + k + "' must be finite" + (positive ? " and > 0" : ""));
    };
    get_int("in_channels", 1, 2, o.in_channels);
    get_int("frames", 1, 15, o.frames);
    if (o.frames % 2 == 0) throw std::invalid_argument("field 'frames' must be odd (the output is the centre frame)");
    get_int("base_channels", 1, 256, o.base_channels);
    get_int("depth", 0, 6, o.depth);
    get_int("convs_per_level", 1, 4, o.convs_per_level);
    get_int("calcium_convs_per_level", 1, 4, o.calcium_convs_per_level);
    get_int("head_channels", 1, 256, o.head_channels);
    get_num("input_offset", o.input_offset, false);
    get_num("input_scale", o.input_scale, true);
    get_num("calcium_offset", o.calcium_offset, false);
    get_num("calcium_scale", o.calcium_scale, true);
    get_num("photon_scale", o.photon_scale, true);
    get_num("photons_max", o.photons_max, true);
    get_num("background_max", o.background_max, true);
    return o;
}

HybridNetImpl::HybridNetImpl(const HybridOptions& o) : o_(o) {
    const UNetOptions e = o.encoder();
    encoder_ = register_module("encoder", UNetEncoder(e));
    loc_ = register_module("localisation", UNetDecoder(e));
    UNetOptions c = e;
    c.convs_per_level = o.calcium_convs_per_level;
    ca_ = register_module("calcium", UNetDecoder(c));
    loc_head_ = register_module(
        "localisation_head",
        tnn::Sequential(tnn::Conv2d(tnn::Conv2dOptions(o.base_channels, o.head_channels, 3).padding(1)),
                        tnn::ELU(), tnn::Conv2d(tnn::Conv2dOptions(o.head_channels, kHChannels, 1))));
    ca_head_ = register_module("calcium_head", tnn::Sequential(tnn::Conv2d(tnn::Conv2dOptions(o.base_channels, 1, 1))));
    // Start from a low detection and event probability and a background of
    // about input_scale photons, as detect.decode's network does.
    torch::NoGradGuard no_grad;
    auto out = loc_head_[2]->as<tnn::Conv2d>();
    out->bias[kHProb].fill_(-4.0);
    out->bias[kHBackground].fill_(std::log(1.0 / (o.background_max / o.input_scale - 1.0)));
    ca_head_[0]->as<tnn::Conv2d>()->bias.fill_(-3.0);
}

HybridOutput HybridNetImpl::forward(const torch::Tensor& x) {
    const int64_t want = int64_t{o_.frames} * o_.in_channels;
    if (x.dim() != 4 || x.size(1) != want)
        throw std::invalid_argument("hybrid network: input of shape " + std::string(c10::str(x.sizes())) + ", expected B x " +
                                    std::to_string(want) + " (" + std::to_string(o_.frames) + " frames x " +
                                    std::to_string(o_.in_channels) + " channels) x H x W");
    const auto levels = encoder_->forward(x);
    const auto o = loc_head_->forward(loc_->forward(levels));
    const auto sl = [&](int64_t from, int64_t n = 1) { return o.narrow(1, from, n); };
    const double pmax = o_.photons_max / o_.photon_scale, bmax = o_.background_max / o_.input_scale;
    HybridOutput out;
    out.localisation = torch::cat({torch::sigmoid(torch::clamp(sl(kHProb), -8.0, 8.0)), torch::sigmoid(sl(kHPhotons)) * pmax,
                                   torch::tanh(sl(kHDx, 2)), torch::sigmoid(sl(kHSigPhotons, 3)) * 3.0 + 0.001,
                                   torch::sigmoid(sl(kHBackground)) * bmax},
                                  1);
    out.calcium = ca_head_->forward(ca_->forward(levels));
    return out;
}

torch::Tensor HybridNetImpl::normalise(const torch::Tensor& photons) const {
    const bool batched = photons.dim() == 5;
    const torch::Tensor p = batched ? photons : photons.unsqueeze(0);
    if (p.dim() != 5 || p.size(1) != o_.frames || p.size(2) != o_.in_channels)
        throw std::invalid_argument("hybrid network: frames of shape " + std::string(c10::str(photons.sizes())) +
                                    ", expected [B x] " + std::to_string(o_.frames) + " x " + std::to_string(o_.in_channels) +
                                    " x H x W");
    std::vector<torch::Tensor> ch{(p.select(2, 0) - o_.input_offset) / o_.input_scale};
    if (o_.in_channels == 2) ch.push_back((p.select(2, 1) - o_.calcium_offset) / o_.calcium_scale);
    // B x frames x C x H x W, frame-major as the input's channels.
    return torch::stack(ch, 2).reshape({p.size(0), p.size(1) * p.size(2), p.size(3), p.size(4)}).contiguous();
}

std::vector<torch::Tensor> HybridNetImpl::encoder_parameters() { return encoder_->parameters(); }
std::vector<torch::Tensor> HybridNetImpl::localisation_parameters() {
    auto p = loc_->parameters();
    for (auto& t : loc_head_->parameters()) p.push_back(t);
    return p;
}
std::vector<torch::Tensor> HybridNetImpl::calcium_parameters() {
    auto p = ca_->parameters();
    for (auto& t : ca_head_->parameters()) p.push_back(t);
    return p;
}

int64_t HybridNetImpl::macs_per_pixel() const {
    return encoder_->macs_per_pixel() + loc_->macs_per_pixel() + ca_->macs_per_pixel() +
           int64_t{o_.base_channels} * o_.head_channels * 9 + int64_t{o_.head_channels} * kHChannels + o_.base_channels;
}

std::vector<HybridDetection> hybrid_detections(const torch::Tensor& localisation, const torch::Tensor& calcium,
                                               const HybridOptions& o, double threshold, int64_t height, int64_t width,
                                               double candidate_threshold) {
    const torch::Tensor loc = localisation.to(torch::kFloat32).contiguous();
    const auto a = loc.accessor<float, 3>();
    const int64_t H = std::min(height, loc.size(1)), W = std::min(width, loc.size(2));
    torch::Tensor ca;
    if (calcium.defined()) ca = torch::sigmoid(calcium.to(torch::kFloat32)).contiguous();
    std::vector<HybridDetection> out;
    for (int64_t y = 0; y < H; ++y)
        for (int64_t x = 0; x < W; ++x) {
            const float p = a[kHProb][y][x];
            if (p < candidate_threshold) continue;
            bool peak = true;
            double sum = 0; // DECODE's spatial integration over the 3 x 3 pixels
            for (int64_t dy = -1; dy <= 1; ++dy)
                for (int64_t dx = -1; dx <= 1; ++dx) {
                    const int64_t yy = y + dy, xx = x + dx;
                    if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                    const float q = a[kHProb][yy][xx];
                    sum += q;
                    // Ties go to the first pixel in row-major order.
                    if ((dx || dy) && (q > p || (q == p && (yy < y || (yy == y && xx < x))))) peak = false;
                }
            if (!peak || std::min(sum, 1.0) < threshold) continue;
            HybridDetection d;
            d.x = static_cast<double>(x) + a[kHDx][y][x];
            d.y = static_cast<double>(y) + a[kHDy][y][x];
            d.probability = std::min(sum, 1.0);
            d.photons = a[kHPhotons][y][x] * o.photon_scale;
            d.sigma_photons = a[kHSigPhotons][y][x] * o.photon_scale;
            d.sigma_x = a[kHSigX][y][x];
            d.sigma_y = a[kHSigY][y][x];
            d.background = a[kHBackground][y][x] * o.input_scale;
            if (ca.defined()) d.calcium_probability = ca[0][y][x].item<double>();
            out.push_back(d);
        }
    return out;
}

void load_pretrained(const WeightFile& file, HybridNet& net, Pretrained part) {
    const auto fail = [&](const std::string& what) {
        throw std::runtime_error("weights file '" + file.path + "': another architecture: " + what);
    };
    HybridOptions f;
    try {
        f = HybridOptions::from_json(file.network);
    } catch (const std::invalid_argument& e) {
        fail(e.what());
    }
    const HybridOptions& n = net->options();
    const auto same = [&](const char* what, int a, int b) {
        if (a != b) fail(std::string(what) + " " + std::to_string(a) + " in the file, " + std::to_string(b) + " here");
    };
    same("frames", f.frames, n.frames);
    same("base_channels", f.base_channels, n.base_channels);
    same("depth", f.depth, n.depth);
    same("convs_per_level", f.convs_per_level, n.convs_per_level);
    if (part == Pretrained::All) {
        same("in_channels", f.in_channels, n.in_channels);
        same("calcium_convs_per_level", f.calcium_convs_per_level, n.calcium_convs_per_level);
    }
    if (part != Pretrained::Encoder) same("head_channels", f.head_channels, n.head_channels);
    if (f.in_channels > n.in_channels) fail("a " + std::to_string(f.in_channels) + "-channel network into a 1-channel one");
    const auto wanted = [&](const std::string& name) {
        if (name.rfind("encoder.", 0) == 0) return true;
        if (part == Pretrained::Encoder) return false;
        if (name.rfind("localisation", 0) == 0) return true;
        return part == Pretrained::All;
    };
    const std::string first_conv = "encoder.enc.0.0.weight";
    auto params = net->named_parameters(true);
    torch::NoGradGuard no_grad;
    int64_t copied = 0;
    for (const auto& [name, src] : file.tensors) {
        if (!wanted(name)) continue;
        auto* dst = params.find(name);
        if (!dst) fail("the file has '" + name + "', the network does not");
        if (name == first_conv && f.in_channels == 1 && n.in_channels == 2) {
            // out x (frames * 1) x 3 x 3 -> out x (frames * 2) x 3 x 3: the
            // puncta channel of each frame, the calcium one zero.
            if (src.dim() != 4 || src.size(1) != f.frames || dst->size(1) != 2 * f.frames || src.size(0) != dst->size(0))
                fail("'" + name + "' has shape " + std::string(c10::str(src.sizes())));
            dst->zero_();
            for (int64_t t = 0; t < f.frames; ++t) dst->select(1, 2 * t).copy_(src.select(1, t));
        } else {
            if (src.sizes() != dst->sizes())
                fail("'" + name + "' has shape " + std::string(c10::str(src.sizes())) + " in the file, " +
                     std::string(c10::str(dst->sizes())) + " here");
            dst->copy_(src);
        }
        ++copied;
    }
    if (copied == 0) fail("no tensor of the wanted part in the file");
    // Every wanted tensor of the network must have come from the file.
    int64_t expected = 0;
    for (const auto& item : params)
        if (wanted(item.key())) ++expected;
    if (copied != expected)
        fail("the file gives " + std::to_string(copied) + " of the " + std::to_string(expected) + " tensors wanted");
}

} // namespace spotflow::nn
