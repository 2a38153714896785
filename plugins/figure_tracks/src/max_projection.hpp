// The maximum-intensity projection of a movie, kept as a running maximum per
// pixel while chunks stream by: memory is one frame.
#pragma once

#include <cstdint>
#include <vector>

#include <dlpack/dlpack.h>

namespace figure_tracks {

class MaxProjection {
public:
    // Folds a T x H x W chunk in. Throws PluginError if the shape differs
    // from the first chunk's or the tensor is not a CPU T x H x W array.
    void add(const DLTensor& chunk);

    bool empty() const { return frames_ == 0; }
    int64_t width() const { return width_; }
    int64_t height() const { return height_; }
    int64_t frames() const { return frames_; }
    const std::vector<double>& pixels() const { return max_; } // row-major H x W

private:
    std::vector<double> max_;
    int64_t width_ = 0, height_ = 0, frames_ = 0;
};

} // namespace figure_tracks
