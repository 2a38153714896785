// Micrograph-like particle images for segmentation and particle picking:
// low-SNR images of round particles of a known size on a slowly varying
// background (ice thickness), blurred (the microscope's envelope) and with
// Gaussian noise, a few larger contaminants that are not particles, and a
// labelled subset of the particles (the rest exist but are unlabelled, as in
// a partially annotated cryo-EM data set). The full truth is kept.
// Deterministic: image i depends only on (seed, i). Plain C++.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sim {

struct ParticleParams {
    int64_t num_images = 200;
    int64_t width = 64, height = 64;
    double radius_px = 5;            // particle radius (the known size)
    int64_t particles_min = 4, particles_max = 10; // per image, uniform
    double min_separation = 2.2;     // centre distance >= min_separation * radius
    double contrast = 1.0;           // particle amplitude at its centre (projected sphere), in noise sigmas
    double contrast_spread = 0.3;    // per-particle amplitude uniform in contrast * [1 - s, 1 + s]
    double polarity = -1;            // -1: particles darker than the background (cryo-EM), +1 brighter
    double blur_sigma_px = 1.0;      // Gaussian blur of the clean image
    double noise_sigma = 1.0;        // additive Gaussian noise
    double background_amplitude = 0.5; // low-frequency background variation, peak
    double contaminants_mean = 0.5;  // Poisson mean of contaminants per image (3 x the radius, brighter)
    double labelled_fraction = 0.5;  // fraction of particles labelled (each independently)
    double margin_px = -1;           // centres this far inside the image; < 0: one radius
    uint64_t seed = 0;

    // Throws std::invalid_argument naming the param.
    void check() const;
    nlohmann::json to_json() const;
    // Fields of j override the defaults; unknown fields throw naming them.
    static ParticleParams from_json(const nlohmann::json& j);
    // The JSON-schema "properties" text of every field (for plugin schemas).
    static std::string schema_properties();
};

struct Particle {
    double x = 0, y = 0; // pixel coordinates, x = column
    double amplitude = 0;
    bool labelled = false;
};

struct ParticleImage {
    std::vector<float> pixels;        // height x width
    std::vector<Particle> particles;  // all of them (the truth)
};

// Image `index` of the data set.
ParticleImage simulate_particle_image(const ParticleParams& p, int64_t index);

// Pixels (px, py) with (px - x)^2 + (py - y)^2 <= r^2 set to `value`
// (disk masks for particles; coordinates as spotflow's: centre of the
// top-left pixel (0, 0)). Clipped to the image.
template <class T> void draw_disk(T* mask, int64_t width, int64_t height, double x, double y, double r, T value) {
    const int64_t x0 = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(x - r)));
    const int64_t x1 = std::min<int64_t>(width - 1, static_cast<int64_t>(std::floor(x + r)));
    const int64_t y0 = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(y - r)));
    const int64_t y1 = std::min<int64_t>(height - 1, static_cast<int64_t>(std::floor(y + r)));
    for (int64_t py = y0; py <= y1; ++py)
        for (int64_t px = x0; px <= x1; ++px) {
            const double dx = static_cast<double>(px) - x, dy = static_cast<double>(py) - y;
            if (dx * dx + dy * dy <= r * r) mask[py * width + px] = value;
        }
}

} // namespace sim
