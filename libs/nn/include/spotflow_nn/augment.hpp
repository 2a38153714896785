// Augmentation for image models: the eight flips and 90-degree rotations of
// the square's symmetry group, applied identically to the images, to image
// targets (masks, maps) and to point targets (x = column, y = row, pixel
// centres at integers), and a brightness/contrast change applied to the
// images only. Includes LibTorch: only model code includes this header.
#pragma once

#include <cstdint>
#include <random>

#include <torch/types.h>

namespace spotflow::nn {

// One element of the group: first a flip of x (columns) if flip_x, then
// `rotations` counter-clockwise quarter turns (as numpy.rot90 on the
// (row, column) plane, i.e. torch::rot90 with dims {-2, -1}).
struct Geometric {
    bool flip_x = false;
    int rotations = 0; // 0..3

    // The transform that undoes this one.
    Geometric inverse() const;
    // Images and maps: the last two dimensions are (row, column). Square
    // frames for odd rotations.
    torch::Tensor apply(const torch::Tensor& images) const;
    // Points in a frame of width w and height h (before the transform): the
    // columns x and y of an N x >=2 float tensor, other columns untouched.
    torch::Tensor apply_points(const torch::Tensor& points, int64_t w, int64_t h) const;
};

struct Photometric {
    double gain = 1;   // contrast: images * gain + offset
    double offset = 0; // brightness, in the images' units
    torch::Tensor apply(const torch::Tensor& images) const { return images * gain + offset; }
    Photometric inverse() const { return {1 / gain, -offset / gain}; }
};

struct AugmentOptions {
    bool flips = true;
    bool rotations = true;
    double gain_min = 1, gain_max = 1;     // log-uniform contrast
    double offset_min = 0, offset_max = 0; // uniform brightness
};

// Draws one augmentation. Thread-safe with one generator per thread.
struct Augmentation {
    Geometric geometric;
    Photometric photometric;
};
Augmentation draw_augmentation(const AugmentOptions& o, std::mt19937_64& rng);

} // namespace spotflow::nn
