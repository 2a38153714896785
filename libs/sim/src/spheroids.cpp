#include "spotflow_sim/spheroids.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "spotflow_sim/rng.hpp"

namespace sim {

namespace {

constexpr double kPi = 3.14159265358979323846;

// The ranges by name, for JSON in and out.
template <class P, class F> void for_ranges(P& p, F&& f) {
    f("coverage", p.coverage);
    f("radius_px", p.radius_px);
    f("irregularity", p.irregularity);
    f("elongation", p.elongation);
    f("contrast", p.contrast);
    f("texture", p.texture);
    f("texture_scale_px", p.texture_scale_px);
    f("core", p.core);
    f("edge_px", p.edge_px);
    f("background", p.background);
    f("background_texture", p.background_texture);
    f("illumination", p.illumination);
    f("noise", p.noise);
    f("photons_per_count", p.photons_per_count);
    f("debris_per_mpx", p.debris_per_mpx);
}

// Smooth value noise in [-1, 1]: random values on a grid of spacing `scale`
// px, smoothstep-interpolated, summed over `octaves` halving scales.
class ValueNoise {
public:
    ValueNoise(int64_t w, int64_t h, double scale, int octaves, std::mt19937_64& rng) {
        std::uniform_real_distribution<float> u(-1, 1);
        for (int o = 0; o < octaves; ++o) {
            Layer l;
            l.scale = std::max(1.0, scale / std::pow(2.0, o));
            l.gw = static_cast<int64_t>(std::ceil(static_cast<double>(w) / l.scale)) + 2;
            l.gh = static_cast<int64_t>(std::ceil(static_cast<double>(h) / l.scale)) + 2;
            l.grid.resize(static_cast<size_t>(l.gw * l.gh));
            for (auto& v : l.grid) v = u(rng);
            l.weight = std::pow(0.5, o);
            norm_ += l.weight;
            layers_.push_back(std::move(l));
        }
    }
    double at(double x, double y) const {
        double s = 0;
        for (const auto& l : layers_) {
            const double gx = x / l.scale, gy = y / l.scale;
            const auto ix = static_cast<int64_t>(gx), iy = static_cast<int64_t>(gy);
            const double fx = smooth(gx - static_cast<double>(ix)), fy = smooth(gy - static_cast<double>(iy));
            const auto g = [&](int64_t a, int64_t b) { return static_cast<double>(l.grid[static_cast<size_t>(b * l.gw + a)]); };
            const double top = g(ix, iy) * (1 - fx) + g(ix + 1, iy) * fx;
            const double bot = g(ix, iy + 1) * (1 - fx) + g(ix + 1, iy + 1) * fx;
            s += l.weight * (top * (1 - fy) + bot * fy);
        }
        return s / norm_;
    }

private:
    static double smooth(double t) { return t * t * (3 - 2 * t); }
    struct Layer {
        double scale = 1, weight = 1;
        int64_t gw = 0, gh = 0;
        std::vector<float> grid;
    };
    std::vector<Layer> layers_;
    double norm_ = 0;
};

double draw(const Range& r, std::mt19937_64& rng) {
    return r.hi > r.lo ? std::uniform_real_distribution<double>(r.lo, r.hi)(rng) : r.lo;
}
double draw_log(const Range& r, std::mt19937_64& rng) {
    return r.hi > r.lo ? std::exp(std::uniform_real_distribution<double>(std::log(r.lo), std::log(r.hi))(rng)) : r.lo;
}

struct Blob {
    double x, y, r, e, angle, rmax, contrast, core;
    double amp[5], phase[5];
};

} // namespace

nlohmann::json SpheroidParams::to_json() const {
    nlohmann::json j = {{"width", width}, {"height", height}, {"min_gap_px", min_gap_px}};
    for_ranges(*this, [&](const char* name, const Range& r) { j[name] = {r.lo, r.hi}; });
    return j;
}

SpheroidParams SpheroidParams::from_json(const nlohmann::json& j) {
    SpheroidParams p;
    if (!j.is_object()) throw std::invalid_argument("spheroid params must be an object");
    for (const auto& [k, v] : j.items()) {
        bool known = k == "width" || k == "height" || k == "min_gap_px";
        for_ranges(p, [&](const char* name, Range&) { known = known || k == name; });
        if (!known) throw std::invalid_argument("unknown spheroid param '" + k + "'");
    }
    p.width = j.value("width", p.width);
    p.height = j.value("height", p.height);
    p.min_gap_px = j.value("min_gap_px", p.min_gap_px);
    if (p.width < 16 || p.height < 16) throw std::invalid_argument("width, height: at least 16 px");
    if (p.width * p.height > (int64_t{1} << 28)) throw std::invalid_argument("width x height: at most 2^28 px");
    for_ranges(p, [&](const char* name, Range& r) {
        if (!j.contains(name)) return;
        const auto& v = j.at(name);
        if (v.is_number()) r = {v.get<double>(), v.get<double>()};
        else if (v.is_array() && v.size() == 2 && v[0].is_number() && v[1].is_number()) r = {v[0].get<double>(), v[1].get<double>()};
        else throw std::invalid_argument(std::string(name) + ": a number or [lo, hi]");
        if (!(r.lo <= r.hi)) throw std::invalid_argument(std::string(name) + ": lo > hi");
        if (r.lo < 0) throw std::invalid_argument(std::string(name) + ": negative");
    });
    if (p.coverage.hi >= 0.6) throw std::invalid_argument("coverage: at most 0.6");
    if (p.radius_px.lo < 2) throw std::invalid_argument("radius_px: at least 2");
    if (p.elongation.lo < 1) throw std::invalid_argument("elongation: at least 1");
    if (p.background.lo <= 0 || p.photons_per_count.lo <= 0) throw std::invalid_argument("background, photons_per_count: positive");
    if (p.texture_scale_px.lo < 1) throw std::invalid_argument("texture_scale_px: at least 1");
    if (p.edge_px.lo <= 0) throw std::invalid_argument("edge_px: positive");
    if (p.illumination.hi > 0.9) throw std::invalid_argument("illumination: at most 0.9");
    return p;
}

double SpheroidImage::coverage() const {
    int64_t n = 0;
    for (int32_t l : labels) n += l > 0;
    return labels.empty() ? 0 : static_cast<double>(n) / static_cast<double>(labels.size());
}

SpheroidImage generate_spheroids(const SpheroidParams& p, uint64_t seed, uint64_t index) {
    std::mt19937_64 rng(mix_seed(mix_seed(seed, 0x5e9e401d), index));
    const int64_t W = p.width, H = p.height;
    SpheroidImage out;
    out.width = W;
    out.height = H;
    const double coverage = draw(p.coverage, rng);
    const double bg = draw_log(p.background, rng);
    const double bg_tex = draw(p.background_texture, rng);
    const double illum = draw(p.illumination, rng);
    const double noise = draw(p.noise, rng);
    const double ppc = draw_log(p.photons_per_count, rng);
    const double tex_scale = draw_log(p.texture_scale_px, rng);
    const double edge = draw(p.edge_px, rng);
    const double debris = draw(p.debris_per_mpx, rng);
    // Per-image spheroid style: contrast and texture around an image mean.
    const double contrast0 = draw(p.contrast, rng), texture0 = draw(p.texture, rng);
    out.drawn = {{"coverage_target", coverage}, {"background", bg}, {"background_texture", bg_tex},
                 {"illumination", illum}, {"noise", noise}, {"photons_per_count", ppc},
                 {"texture_scale_px", tex_scale}, {"edge_px", edge}, {"debris_per_mpx", debris},
                 {"contrast", contrast0}, {"texture", texture0}};

    // Spheroids, placed until the coverage is reached, never closer than min_gap_px.
    std::vector<Blob> blobs;
    std::uniform_real_distribution<double> u01(0, 1);
    double area = 0;
    const double target = coverage * static_cast<double>(W * H);
    for (int tries = 0; area < target && tries < 4000; ++tries) {
        Blob b{};
        b.r = draw_log(p.radius_px, rng);
        b.e = draw(p.elongation, rng);
        b.angle = u01(rng) * kPi;
        double irr = draw(p.irregularity, rng), sum = 0;
        for (int k = 0; k < 5; ++k) {
            b.amp[k] = irr * u01(rng) / (1 + 0.5 * k);
            b.phase[k] = u01(rng) * 2 * kPi;
            sum += b.amp[k];
        }
        if (sum > 0.6) for (double& a : b.amp) a *= 0.6 / sum;
        b.rmax = b.r * (1 + std::min(sum, 0.6)) * std::sqrt(b.e) + edge + 1;
        b.x = u01(rng) * static_cast<double>(W - 1);
        b.y = u01(rng) * static_cast<double>(H - 1);
        b.contrast = contrast0 * std::exp(0.25 * std::normal_distribution<double>(0, 1)(rng));
        b.core = draw(p.core, rng);
        bool free = true;
        for (const Blob& o : blobs)
            if (std::hypot(o.x - b.x, o.y - b.y) < o.rmax + b.rmax + static_cast<double>(p.min_gap_px)) {
                free = false;
                break;
            }
        if (!free) continue;
        blobs.push_back(b);
        area += kPi * b.r * b.r;
    }

    ValueNoise bg_noise(W, H, 24, 3, rng);
    ValueNoise illum_noise(W, H, static_cast<double>(std::max(W, H)) / 3, 2, rng);
    ValueNoise tex_noise(W, H, tex_scale, 3, rng);
    // Uneven illumination: a linear gradient in a random direction, a
    // vignette off a random centre and a low-frequency field.
    const double ga = u01(rng) * 2 * kPi, vx = u01(rng), vy = u01(rng);
    const double g_amp = illum * u01(rng), v_amp = illum - g_amp;
    std::vector<float> field(static_cast<size_t>(W * H));
    const double diag = std::hypot(static_cast<double>(W), static_cast<double>(H));
    for (int64_t y = 0; y < H; ++y)
        for (int64_t x = 0; x < W; ++x) {
            const double u = (static_cast<double>(x) - W / 2.0) / diag, v = (static_cast<double>(y) - H / 2.0) / diag;
            const double dx = static_cast<double>(x) / W - vx, dy = static_cast<double>(y) / H - vy;
            double f = (1 + g_amp * 1.4 * (u * std::cos(ga) + v * std::sin(ga))) * (1 - v_amp * (dx * dx + dy * dy)) *
                       (1 + 0.3 * illum * illum_noise.at(static_cast<double>(x), static_cast<double>(y)));
            f *= 1 + bg_tex * bg_noise.at(static_cast<double>(x), static_cast<double>(y));
            field[static_cast<size_t>(y * W + x)] = static_cast<float>(std::max(0.05, f));
        }
    std::vector<float> signal(static_cast<size_t>(W * H), 0.0f); // relative brightness above the background
    out.labels.assign(static_cast<size_t>(W * H), 0);
    for (size_t i = 0; i < blobs.size(); ++i) {
        const Blob& b = blobs[i];
        const double c = std::cos(b.angle), s = std::sin(b.angle), a = std::sqrt(b.e);
        const auto x0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(b.x - b.rmax)));
        const auto x1 = std::min<int64_t>(W - 1, static_cast<int64_t>(std::ceil(b.x + b.rmax)));
        const auto y0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(b.y - b.rmax)));
        const auto y1 = std::min<int64_t>(H - 1, static_cast<int64_t>(std::ceil(b.y + b.rmax)));
        Spheroid sp{b.x, b.y, b.r, 0};
        const double tex = texture0 * (0.5 + u01(rng));
        for (int64_t y = y0; y <= y1; ++y)
            for (int64_t x = x0; x <= x1; ++x) {
                const double dx = static_cast<double>(x) - b.x, dy = static_cast<double>(y) - b.y;
                const double px = (c * dx + s * dy) / a, py = (-s * dx + c * dy) * a;
                const double rho = std::hypot(px, py), th = std::atan2(py, px);
                double R = 1;
                for (int k = 0; k < 5; ++k) R += b.amp[k] * std::cos((k + 2) * th + b.phase[k]);
                R *= b.r;
                const double t = std::clamp((R - rho) / edge + 0.5, 0.0, 1.0);
                const double alpha = t * t * (3 - 2 * t);
                const size_t k = static_cast<size_t>(y * W + x);
                if (rho < R) {
                    out.labels[k] = static_cast<int32_t>(i + 1);
                    ++sp.area_px;
                }
                if (alpha <= 0) continue;
                const double core = 1 - b.core * std::exp(-(rho * rho) / (0.25 * R * R));
                const double texv = 1 + tex * tex_noise.at(static_cast<double>(x), static_cast<double>(y));
                signal[k] += static_cast<float>(alpha * b.contrast * core * std::max(0.0, texv));
            }
        out.spheroids.push_back(sp);
    }
    // Debris: small unlabelled Gaussian specks.
    const auto n_debris = static_cast<int64_t>(debris * static_cast<double>(W * H) / 1e6);
    for (int64_t d = 0; d < n_debris; ++d) {
        const double cx = u01(rng) * static_cast<double>(W - 1), cy = u01(rng) * static_cast<double>(H - 1);
        const double sg = 0.8 + 2.2 * u01(rng), amp = contrast0 * (0.3 + 0.9 * u01(rng));
        const auto r = static_cast<int64_t>(std::ceil(3 * sg));
        for (int64_t y = std::max<int64_t>(0, static_cast<int64_t>(cy) - r); y <= std::min<int64_t>(H - 1, static_cast<int64_t>(cy) + r); ++y)
            for (int64_t x = std::max<int64_t>(0, static_cast<int64_t>(cx) - r); x <= std::min<int64_t>(W - 1, static_cast<int64_t>(cx) + r); ++x) {
                const double q = (std::pow(static_cast<double>(x) - cx, 2) + std::pow(static_cast<double>(y) - cy, 2)) / (2 * sg * sg);
                signal[static_cast<size_t>(y * W + x)] += static_cast<float>(amp * std::exp(-q));
            }
    }
    // Counts: illumination x (1 + signal), shot noise, read noise.
    out.image.resize(static_cast<size_t>(W * H));
    std::normal_distribution<double> n01(0, 1);
    for (size_t k = 0; k < out.image.size(); ++k) {
        const double mean = bg * field[k] * (1 + signal[k]);
        const double photons = mean * ppc;
        const double shot = photons > 30 ? photons + std::sqrt(photons) * n01(rng)
                                         : static_cast<double>(std::poisson_distribution<int64_t>(photons)(rng));
        const double v = shot / ppc + noise * bg * n01(rng);
        out.image[k] = static_cast<uint16_t>(std::clamp(std::round(v), 0.0, 65535.0));
    }
    return out;
}

} // namespace sim
