#include "spotflow_sim/particles.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "spotflow_sim/rng.hpp"

namespace sim {

namespace {

struct Field {
    const char* name;
    const char* type;
    const char* description;
};

// Name, JSON type and description of every field, in order.
const Field kFields[] = {
    {"num_images", "integer", "Images in the data set."},
    {"width", "integer", "Image width, px."},
    {"height", "integer", "Image height, px."},
    {"radius_px", "number", "Particle radius, px (the known particle size)."},
    {"particles_min", "integer", "Fewest particles per image."},
    {"particles_max", "integer", "Most particles per image (uniform in between)."},
    {"min_separation", "number", "Particle centres at least this many radii apart."},
    {"contrast", "number", "Particle amplitude at its centre (a projected sphere), in units of the noise sigma before blurring."},
    {"contrast_spread", "number", "Per-particle amplitude uniform in contrast x [1 - spread, 1 + spread]."},
    {"polarity", "number", "-1: particles darker than the background (cryo-EM), +1: brighter."},
    {"blur_sigma_px", "number", "Gaussian blur of the clean image, px (the microscope's envelope); 0: none."},
    {"noise_sigma", "number", "Additive Gaussian noise sigma."},
    {"background_amplitude", "number", "Peak of the low-frequency background (ice thickness) variation."},
    {"contaminants_mean", "number", "Poisson mean of contaminants per image: discs of 3 radii, opposite polarity, not particles."},
    {"labelled_fraction", "number", "Fraction of the particles that are labelled (each independently); the rest are unlabelled positives."},
    {"margin_px", "number", "Particle centres at least this far inside the image; negative: one radius."},
    {"seed", "integer", "Seed of the data set: image i depends only on (seed, i)."},
};

} // namespace

void ParticleParams::check() const {
    auto bad = [](const std::string& what) { throw std::invalid_argument("param '" + what); };
    if (num_images < 1) bad("num_images' must be >= 1");
    if (width < 8 || height < 8) bad("width' and 'height' must be >= 8");
    if (width * height > (int64_t{1} << 26)) bad("width' x 'height' is too large (> 2^26 px)");
    if (!(radius_px > 0.5)) bad("radius_px' must be > 0.5");
    if (particles_min < 0 || particles_max < particles_min) bad("particles_max' must be >= particles_min >= 0");
    if (!(min_separation >= 0)) bad("min_separation' must be >= 0");
    if (!std::isfinite(contrast) || contrast < 0) bad("contrast' must be >= 0");
    if (!(contrast_spread >= 0 && contrast_spread <= 1)) bad("contrast_spread' must be in [0, 1]");
    if (polarity != -1 && polarity != 1) bad("polarity' must be -1 or 1");
    if (!(blur_sigma_px >= 0 && blur_sigma_px <= 10)) bad("blur_sigma_px' must be in [0, 10]");
    if (!(noise_sigma >= 0)) bad("noise_sigma' must be >= 0");
    if (!(background_amplitude >= 0)) bad("background_amplitude' must be >= 0");
    if (!(contaminants_mean >= 0 && contaminants_mean <= 100)) bad("contaminants_mean' must be in [0, 100]");
    if (!(labelled_fraction >= 0 && labelled_fraction <= 1)) bad("labelled_fraction' must be in [0, 1]");
    const double m = margin_px < 0 ? radius_px : margin_px;
    if (2 * m >= static_cast<double>(std::min(width, height) - 1)) bad("margin_px' (or radius_px) leaves no room in the image");
}

nlohmann::json ParticleParams::to_json() const {
    return {{"num_images", num_images}, {"width", width}, {"height", height}, {"radius_px", radius_px},
            {"particles_min", particles_min}, {"particles_max", particles_max}, {"min_separation", min_separation},
            {"contrast", contrast}, {"contrast_spread", contrast_spread}, {"polarity", polarity},
            {"blur_sigma_px", blur_sigma_px}, {"noise_sigma", noise_sigma}, {"background_amplitude", background_amplitude},
            {"contaminants_mean", contaminants_mean}, {"labelled_fraction", labelled_fraction}, {"margin_px", margin_px},
            {"seed", seed}};
}

ParticleParams ParticleParams::from_json(const nlohmann::json& j) {
    ParticleParams p;
    nlohmann::json d = p.to_json();
    if (!j.is_object()) throw std::invalid_argument("particle simulation params must be an object");
    for (const auto& [k, v] : j.items()) {
        if (!d.contains(k)) throw std::invalid_argument("param '" + k + "' is not a particle simulation param");
        if (!v.is_number()) throw std::invalid_argument("param '" + k + "' must be a number");
        d[k] = v;
    }
    p.num_images = d["num_images"];
    p.width = d["width"];
    p.height = d["height"];
    p.radius_px = d["radius_px"];
    p.particles_min = d["particles_min"];
    p.particles_max = d["particles_max"];
    p.min_separation = d["min_separation"];
    p.contrast = d["contrast"];
    p.contrast_spread = d["contrast_spread"];
    p.polarity = d["polarity"];
    p.blur_sigma_px = d["blur_sigma_px"];
    p.noise_sigma = d["noise_sigma"];
    p.background_amplitude = d["background_amplitude"];
    p.contaminants_mean = d["contaminants_mean"];
    p.labelled_fraction = d["labelled_fraction"];
    p.margin_px = d["margin_px"];
    p.seed = d["seed"];
    p.check();
    return p;
}

std::string ParticleParams::schema_properties() {
    const nlohmann::json d = ParticleParams{}.to_json();
    std::string s;
    for (const Field& f : kFields) {
        if (!s.empty()) s += ",\n    ";
        s += "\"" + std::string(f.name) + "\": {\"type\": \"" + f.type + "\", \"default\": " + d[f.name].dump() +
             ", \"description\": " + nlohmann::json(f.description).dump() + "}";
    }
    return s;
}

namespace {

// Separable Gaussian blur, edges clamped.
void blur(std::vector<double>& img, int64_t w, int64_t h, double sigma) {
    if (sigma <= 0) return;
    const int64_t r = static_cast<int64_t>(std::ceil(3 * sigma));
    std::vector<double> k(static_cast<size_t>(2 * r + 1));
    double ks = 0;
    for (int64_t i = -r; i <= r; ++i) ks += k[static_cast<size_t>(i + r)] = std::exp(-0.5 * i * i / (sigma * sigma));
    for (double& v : k) v /= ks;
    std::vector<double> tmp(img.size());
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
            double s = 0;
            for (int64_t i = -r; i <= r; ++i) s += k[static_cast<size_t>(i + r)] * img[static_cast<size_t>(y * w + std::clamp<int64_t>(x + i, 0, w - 1))];
            tmp[static_cast<size_t>(y * w + x)] = s;
        }
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
            double s = 0;
            for (int64_t i = -r; i <= r; ++i) s += k[static_cast<size_t>(i + r)] * tmp[static_cast<size_t>(std::clamp<int64_t>(y + i, 0, h - 1) * w + x)];
            img[static_cast<size_t>(y * w + x)] = s;
        }
}

// A projected sphere of radius r and peak a added at (cx, cy).
void add_sphere(std::vector<double>& img, int64_t w, int64_t h, double cx, double cy, double r, double a) {
    const int64_t x0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(cx - r))), x1 = std::min<int64_t>(w - 1, static_cast<int64_t>(std::ceil(cx + r)));
    const int64_t y0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(cy - r))), y1 = std::min<int64_t>(h - 1, static_cast<int64_t>(std::ceil(cy + r)));
    for (int64_t y = y0; y <= y1; ++y)
        for (int64_t x = x0; x <= x1; ++x) {
            const double d2 = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (r * r);
            if (d2 < 1) img[static_cast<size_t>(y * w + x)] += a * std::sqrt(1 - d2);
        }
}

} // namespace

ParticleImage simulate_particle_image(const ParticleParams& p, int64_t index) {
    p.check();
    if (index < 0 || index >= p.num_images) throw std::invalid_argument("particle image index out of range");
    std::mt19937_64 rng(mix_seed(mix_seed(p.seed, 0x9a271c1e), static_cast<uint64_t>(index)));
    std::uniform_real_distribution<double> unit(0, 1);
    const int64_t w = p.width, h = p.height;
    const double margin = p.margin_px < 0 ? p.radius_px : p.margin_px;
    ParticleImage out;
    // Positions: rejection sampling with a bounded number of tries, so a
    // crowded image gets fewer particles instead of looping forever.
    const int64_t want = std::uniform_int_distribution<int64_t>(p.particles_min, p.particles_max)(rng);
    const double sep = p.min_separation * p.radius_px;
    for (int64_t tries = 0; static_cast<int64_t>(out.particles.size()) < want && tries < 200 * (want + 1); ++tries) {
        Particle q;
        q.x = margin + unit(rng) * (static_cast<double>(w - 1) - 2 * margin);
        q.y = margin + unit(rng) * (static_cast<double>(h - 1) - 2 * margin);
        bool ok = true;
        for (const Particle& o : out.particles)
            if (std::hypot(o.x - q.x, o.y - q.y) < sep) ok = false;
        if (!ok) continue;
        q.amplitude = p.contrast * (1 + p.contrast_spread * (2 * unit(rng) - 1));
        q.labelled = unit(rng) < p.labelled_fraction;
        out.particles.push_back(q);
    }
    std::vector<double> img(static_cast<size_t>(w * h), 0.0);
    // Background: two random low-frequency cosines (ice thickness).
    for (int k = 0; k < 2; ++k) {
        const double fx = (unit(rng) - 0.5) * 2 / static_cast<double>(w), fy = (unit(rng) - 0.5) * 2 / static_cast<double>(h);
        const double ph = unit(rng) * 2 * M_PI;
        for (int64_t y = 0; y < h; ++y)
            for (int64_t x = 0; x < w; ++x)
                img[static_cast<size_t>(y * w + x)] += 0.5 * p.background_amplitude * std::cos(2 * M_PI * (fx * x + fy * y) + ph);
    }
    for (const Particle& q : out.particles) add_sphere(img, w, h, q.x, q.y, p.radius_px, p.polarity * q.amplitude * p.noise_sigma);
    std::poisson_distribution<int> junk(p.contaminants_mean);
    const int n_junk = p.contaminants_mean > 0 ? junk(rng) : 0;
    for (int k = 0; k < n_junk; ++k)
        add_sphere(img, w, h, unit(rng) * static_cast<double>(w - 1), unit(rng) * static_cast<double>(h - 1), 3 * p.radius_px,
                   -p.polarity * 1.5 * p.contrast * p.noise_sigma);
    blur(img, w, h, p.blur_sigma_px);
    std::normal_distribution<double> noise(0, 1);
    out.pixels.resize(img.size());
    for (size_t i = 0; i < img.size(); ++i) out.pixels[i] = static_cast<float>(img[i] + p.noise_sigma * noise(rng));
    return out;
}

} // namespace sim
