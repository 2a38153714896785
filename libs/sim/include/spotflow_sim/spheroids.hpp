// Simulated spheroid images for the segmentation plugins (seed 003: large
// bright-field/fluorescence images of spheroids in Matrigel): irregular,
// textured bright blobs at a few per cent coverage on a textured background
// under uneven illumination, with Poisson-Gaussian noise, and their instance
// masks. Every property is drawn per image (or per blob) from a range, so a
// set of images covers a broad distribution of shapes, textures and
// illumination; the ranges are params (sim.spheroids). Plain C++.
// Threading: generate() is thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sim {

struct Range {
    double lo = 0, hi = 0;
};

struct SpheroidParams {
    int64_t width = 1483, height = 1481;
    Range coverage{0.02, 0.07};        // fraction of the image inside spheroids (target, per image)
    Range radius_px{18, 70};           // mean radius of a spheroid, log-uniform
    Range irregularity{0.0, 0.25};     // amplitude of the boundary's harmonics 2..6, relative to the radius
    Range elongation{1.0, 1.6};        // axis ratio
    Range contrast{0.25, 1.5};         // spheroid brightness above the local background, relative
    Range texture{0.05, 0.45};         // spheroid texture amplitude, relative
    Range texture_scale_px{2, 12};     // spheroid texture grain
    Range core{0.0, 0.5};              // darker necrotic core depth (0: none), relative
    Range edge_px{0.5, 4};             // width of the soft boundary
    Range background{200, 2000};       // mean background level, counts
    Range background_texture{0.0, 0.12}; // Matrigel texture amplitude, relative
    Range illumination{0.0, 0.6};      // uneven illumination: gradient + vignetting, relative
    Range noise{0.01, 0.08};           // Gaussian read noise, relative to the background
    Range photons_per_count{0.5, 4};   // shot noise: counts -> photons
    Range debris_per_mpx{0, 60};       // small bright unlabelled particles per megapixel
    int64_t min_gap_px = 3;            // spheroids keep this far apart (instances never touch)

    nlohmann::json to_json() const;
    // Missing fields keep their defaults; throws std::invalid_argument
    // naming a bad field ("radius_px: lo > hi").
    static SpheroidParams from_json(const nlohmann::json& j);
};

struct Spheroid {
    double x = 0, y = 0;   // centre, px (column, row)
    double radius = 0;     // mean radius, px
    int64_t area_px = 0;   // pixels in its mask
};

struct SpheroidImage {
    int64_t width = 0, height = 0;
    std::vector<uint16_t> image;  // counts, row-major
    std::vector<int32_t> labels;  // 0 background, k = spheroid k (1-based)
    std::vector<Spheroid> spheroids;
    nlohmann::json drawn;         // the per-image values drawn from the ranges
    double coverage() const;
};

// Image `index` of the set `seed`: the same seed and index give the same image.
SpheroidImage generate_spheroids(const SpheroidParams& p, uint64_t seed, uint64_t index);

} // namespace sim
