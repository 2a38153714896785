// Binary segmentation with a U-Net: the network description of a
// segmentation weights file, the per-image normalisation, and full-image
// prediction of any size through overlapping tiles blended with a smooth
// window, so the result does not depend on the tile grid (segment.unet,
// train.unet's validation, review.flag). Includes LibTorch: only model code
// includes this header.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spotflow_nn/unet.hpp"

namespace spotflow::nn {

// Per-image normalisation: (x - mean) / std over the whole image (std
// floored at 1e-6 of the mean's magnitude, or 1), so a tile sees the same
// values as the whole image.
struct Normalisation {
    double mean = 0, std = 1;
};
Normalisation image_normalisation(const float* pixels, int64_t n);
std::vector<float> normalised(const float* pixels, int64_t n, const Normalisation& z);

// The segmentation network in a weights file's "network": {"task":
// "segmentation", "unet": UNetOptions, "normalisation": "image_mean_std",
// "threshold": 0.5}.
struct SegNetwork {
    UNetOptions unet;
    double threshold = 0.5;
    nlohmann::json to_json() const;
    // Throws std::invalid_argument naming what is wrong (another task).
    static SegNetwork from_json(const nlohmann::json& j);
};
UNetOptions default_seg_unet();

// How far (px, at full resolution) a U-Net output depends on its input: the
// radius of its receptive field, from its depth and convolutions.
int64_t receptive_radius(const UNetOptions& o);

struct TileOptions {
    int64_t tile = 512;   // tile side, px (rounded down to the U-Net's multiple); <= 0: the whole image in one pass
    int64_t margin = -1;  // px at a tile's inner edges given weight 0; -1: the receptive radius
    int64_t ramp = 32;    // px over which the window rises from 0 to 1 (raised cosine) after the margin
    int64_t max_tile_pixels = int64_t{4096} * 4096; // the largest single forward pass allowed
};

struct TilePlan {
    int64_t canvas_w = 0, canvas_h = 0; // the image padded to the U-Net's multiple
    int64_t tile_w = 0, tile_h = 0;
    int64_t margin = 0, ramp = 0;
    std::vector<int64_t> xs, ys;        // tile origins
    int64_t tiles() const { return static_cast<int64_t>(xs.size() * ys.size()); }
};
// Throws std::invalid_argument naming the cause: an image below 2 x the
// U-Net's multiple on a side; a whole-image pass above max_tile_pixels; a
// tile too small for its margins.
TilePlan plan_tiles(int64_t width, int64_t height, const UNetOptions& net, const TileOptions& o);

// The 1-D blending window of a tile at `origin` of length `length` on a
// canvas of `canvas` px: 0 within `margin` of an inner edge, a raised
// cosine over `ramp`, 1 elsewhere and up to the canvas's own edges.
std::vector<float> tile_window(int64_t origin, int64_t length, int64_t canvas, int64_t margin, int64_t ramp);

// The foreground probability of every pixel of a normalised image
// (height x width, row-major) into prob (same size): the network in eval
// mode, no gradients, tile by tile, each tile's sigmoid output weighted by
// its window (the product of the 1-D windows) and divided by the windows'
// sum. Memory: the image, the result and one tile's activations.
// `cancelled` polled between tiles (true: stops, returns false).
bool predict_tiled(UNet& net, const float* image, int64_t width, int64_t height, const TilePlan& plan, float* prob,
                   const std::function<bool()>& cancelled = {});

// A segmentation weights file loaded into its U-Net (eval mode). Throws
// std::runtime_error with one line naming the file (weights.hpp's errors,
// "not a segmentation network", another architecture).
struct SegModel {
    std::string path;
    SegNetwork network;
    UNet net{nullptr};
    nlohmann::json model_card;
};
SegModel load_seg_model(const std::string& path);

} // namespace spotflow::nn
