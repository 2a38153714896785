// The movie a calcium extractor measures, spilled to an unnamed temporary
// file as it streams: tracks arrive only after the whole movie has passed
// (linking needs the whole stream), and memory must not grow with the movie.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

#include <dlpack/dlpack.h>

namespace calcium_dff {

class FrameStore {
public:
    FrameStore();
    // Appends the frames of a T x H x W chunk (any integer or float type)
    // starting at movie frame `first`, which must follow the last stored one.
    void append(const DLTensor& chunk, int64_t first);
    int64_t frames() const { return frames_; }
    int width() const { return width_; }
    int height() const { return height_; }
    // Frame t as float, row-major.
    std::vector<float> read(int64_t t) const;

private:
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
    int64_t frames_ = 0;
    int width_ = 0, height_ = 0;
};

} // namespace calcium_dff
