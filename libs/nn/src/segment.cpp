#include "spotflow_nn/segment.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

#include "spotflow_nn/weights.hpp"

namespace spotflow::nn {

Normalisation image_normalisation(const float* pixels, int64_t n) {
    double s = 0, ss = 0;
    for (int64_t i = 0; i < n; ++i) s += pixels[i];
    const double mean = n ? s / static_cast<double>(n) : 0;
    for (int64_t i = 0; i < n; ++i) ss += (pixels[i] - mean) * (pixels[i] - mean);
    const double sd = n ? std::sqrt(ss / static_cast<double>(n)) : 0;
    const double floor = std::max(1e-6 * std::abs(mean), 1e-12);
    return {mean, sd > floor ? sd : (std::abs(mean) > 0 ? floor : 1.0)};
}

std::vector<float> normalised(const float* pixels, int64_t n, const Normalisation& z) {
    std::vector<float> out(static_cast<size_t>(n));
    const double inv = 1 / z.std;
    for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = static_cast<float>((pixels[i] - z.mean) * inv);
    return out;
}

UNetOptions default_seg_unet() {
    UNetOptions o;
    o.in_channels = 1;
    o.out_channels = 1;
    o.base_channels = 8;
    o.depth = 3;
    o.convs_per_level = 2;
    o.activation = Activation::Relu;
    o.downsample = Downsample::MaxPool;
    o.norm = Norm::Batch;
    return o;
}

nlohmann::json SegNetwork::to_json() const {
    return {{"task", "segmentation"}, {"unet", unet.to_json()}, {"normalisation", "image_mean_std"}, {"threshold", threshold}};
}

SegNetwork SegNetwork::from_json(const nlohmann::json& j) {
    if (!j.is_object() || j.value("task", std::string()) != "segmentation")
        throw std::invalid_argument("not a segmentation network (network.task is '" +
                                    (j.is_object() ? j.value("task", std::string()) : std::string()) + "')");
    if (j.value("normalisation", std::string()) != "image_mean_std")
        throw std::invalid_argument("unknown normalisation '" + j.value("normalisation", std::string()) + "'");
    SegNetwork n;
    n.unet = UNetOptions::from_json(j.at("unet"));
    if (n.unet.in_channels != 1 || n.unet.out_channels != 1) throw std::invalid_argument("a segmentation U-Net has 1 input and 1 output channel");
    n.threshold = j.value("threshold", 0.5);
    return n;
}

int64_t receptive_radius(const UNetOptions& o) {
    int64_t r = 0;
    for (int l = 0; l <= o.depth; ++l) r += int64_t{o.convs_per_level} << l;         // encoder + bottom
    for (int l = 0; l < o.depth; ++l) r += (int64_t{o.convs_per_level} << l) + (int64_t{2} << l); // decoder, pool, upsample
    return r;
}

std::vector<float> tile_window(int64_t origin, int64_t length, int64_t canvas, int64_t margin, int64_t ramp) {
    std::vector<float> w(static_cast<size_t>(length));
    constexpr double kPi = 3.14159265358979323846;
    const auto rise = [&](int64_t d) -> double {
        if (d < margin) return 0;
        if (d >= margin + ramp) return 1;
        return 0.5 - 0.5 * std::cos(kPi * (static_cast<double>(d - margin) + 0.5) / static_cast<double>(ramp));
    };
    for (int64_t i = 0; i < length; ++i) {
        double v = 1;
        if (origin > 0) v = std::min(v, rise(i));
        if (origin + length < canvas) v = std::min(v, rise(length - 1 - i));
        w[static_cast<size_t>(i)] = static_cast<float>(v);
    }
    return w;
}

namespace {
std::vector<int64_t> origins(int64_t canvas, int64_t tile, int64_t stride) {
    if (tile >= canvas) return {0};
    std::vector<int64_t> o;
    for (int64_t p = 0; p + tile < canvas; p += stride) o.push_back(p);
    o.push_back(canvas - tile);
    return o;
}
} // namespace

TilePlan plan_tiles(int64_t width, int64_t height, const UNetOptions& net, const TileOptions& o) {
    const int64_t m = net.size_multiple();
    if (width < 2 * m || height < 2 * m)
        throw std::invalid_argument(std::to_string(width) + " x " + std::to_string(height) + " px is too small: at least " +
                                    std::to_string(2 * m) + " px a side");
    TilePlan p;
    p.canvas_w = (width + m - 1) / m * m;
    p.canvas_h = (height + m - 1) / m * m;
    p.margin = o.margin >= 0 ? o.margin : receptive_radius(net);
    p.ramp = std::max<int64_t>(1, o.ramp);
    if (o.tile <= 0) {
        if (p.canvas_w * p.canvas_h > o.max_tile_pixels)
            throw std::invalid_argument(std::to_string(width) + " x " + std::to_string(height) +
                                        " px is larger than the tile budget allows without tiling (max_tile_pixels " +
                                        std::to_string(o.max_tile_pixels) + "); set tile_size > 0");
        p.tile_w = p.canvas_w;
        p.tile_h = p.canvas_h;
    } else {
        const int64_t t = o.tile / m * m;
        if (t * t > o.max_tile_pixels)
            throw std::invalid_argument("tile_size " + std::to_string(o.tile) + " exceeds max_tile_pixels " + std::to_string(o.max_tile_pixels));
        p.tile_w = std::min(t, p.canvas_w);
        p.tile_h = std::min(t, p.canvas_h);
    }
    const auto stride = [&](int64_t tile, int64_t canvas) {
        if (tile >= canvas) return tile;
        const int64_t s = (tile - 2 * p.margin - p.ramp) / m * m;
        if (s < m)
            throw std::invalid_argument("tile_size " + std::to_string(tile) + " leaves no room for the blending margins (2 x " +
                                        std::to_string(p.margin) + " + " + std::to_string(p.ramp) + " px)");
        return s;
    };
    p.xs = origins(p.canvas_w, p.tile_w, stride(p.tile_w, p.canvas_w));
    p.ys = origins(p.canvas_h, p.tile_h, stride(p.tile_h, p.canvas_h));
    return p;
}

bool predict_tiled(UNet& net, const float* image, int64_t width, int64_t height, const TilePlan& plan, float* prob,
                   const std::function<bool()>& cancelled) {
    torch::NoGradGuard ng;
    net->eval();
    std::fill_n(prob, width * height, 0.0f);
    // The windows' sum factorises over the product grid.
    std::vector<double> sx(static_cast<size_t>(plan.canvas_w), 0), sy(static_cast<size_t>(plan.canvas_h), 0);
    std::vector<std::vector<float>> wx, wy;
    for (int64_t x0 : plan.xs) {
        wx.push_back(tile_window(x0, plan.tile_w, plan.canvas_w, plan.margin, plan.ramp));
        for (int64_t i = 0; i < plan.tile_w; ++i) sx[static_cast<size_t>(x0 + i)] += wx.back()[static_cast<size_t>(i)];
    }
    for (int64_t y0 : plan.ys) {
        wy.push_back(tile_window(y0, plan.tile_h, plan.canvas_h, plan.margin, plan.ramp));
        for (int64_t i = 0; i < plan.tile_h; ++i) sy[static_cast<size_t>(y0 + i)] += wy.back()[static_cast<size_t>(i)];
    }
    torch::Tensor tile = torch::zeros({1, 1, plan.tile_h, plan.tile_w});
    for (size_t ty = 0; ty < plan.ys.size(); ++ty)
        for (size_t tx = 0; tx < plan.xs.size(); ++tx) {
            if (cancelled && cancelled()) return false;
            const int64_t x0 = plan.xs[tx], y0 = plan.ys[ty];
            float* t = tile.data_ptr<float>();
            // The padded canvas: zeros beyond the image (0 = the image's mean after normalisation).
            for (int64_t y = 0; y < plan.tile_h; ++y) {
                float* row = t + y * plan.tile_w;
                const int64_t iy = y0 + y;
                if (iy >= height) {
                    std::fill_n(row, plan.tile_w, 0.0f);
                    continue;
                }
                const int64_t n = std::clamp<int64_t>(width - x0, 0, plan.tile_w);
                std::copy_n(image + iy * width + x0, n, row);
                std::fill(row + n, row + plan.tile_w, 0.0f);
            }
            const torch::Tensor p = torch::sigmoid(net->forward(tile)).contiguous();
            const float* pd = p.data_ptr<float>();
            const auto& wxx = wx[tx];
            const auto& wyy = wy[ty];
            for (int64_t y = 0; y < plan.tile_h && y0 + y < height; ++y) {
                const float a = wyy[static_cast<size_t>(y)];
                if (a == 0) continue;
                float* out = prob + (y0 + y) * width + x0;
                const float* src = pd + y * plan.tile_w;
                const int64_t n = std::min(plan.tile_w, width - x0);
                for (int64_t x = 0; x < n; ++x) out[x] += a * wxx[static_cast<size_t>(x)] * src[x];
            }
        }
    for (int64_t y = 0; y < height; ++y)
        for (int64_t x = 0; x < width; ++x)
            prob[y * width + x] = static_cast<float>(prob[y * width + x] / (sx[static_cast<size_t>(x)] * sy[static_cast<size_t>(y)]));
    return true;
}

SegModel load_seg_model(const std::string& path) {
    WeightFile f = read_weights(path);
    SegModel m;
    m.path = path;
    try {
        m.network = SegNetwork::from_json(f.network);
    } catch (const std::exception& e) {
        throw std::runtime_error("weights file '" + path + "': " + e.what());
    }
    m.net = UNet(m.network.unet);
    load_into(f, *m.net);
    m.net->eval();
    m.model_card = std::move(f.model_card);
    return m;
}

} // namespace spotflow::nn
