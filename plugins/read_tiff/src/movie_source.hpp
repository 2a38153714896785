// What the plugin needs from a movie file, whatever its format: the layout,
// known once the file is opened, and frames read in order.
#pragma once

#include <cstdint>

#include <dlpack/dlpack.h>

namespace read_tiff {

struct MovieLayout {
    int64_t frames = 0;
    int64_t height = 0;
    int64_t width = 0;
    DLDataType dtype{kDLUInt, 8, 1};
    double pixel_size_nm = 0;    // 0: the file does not say
    double frame_interval_s = 0; // 0: the file does not say

    int64_t frame_bytes() const { return height * width * (dtype.bits / 8); }
};

class MovieSource {
public:
    virtual ~MovieSource() = default;
    const MovieLayout& layout() const { return layout_; }

    // Reads frames [first, first + count) into dst, which holds
    // count * layout().frame_bytes() bytes. Callers read in order; throws
    // PluginError naming the frame (page) and file on failure.
    virtual void read_frames(int64_t first, int64_t count, void* dst) = 0;

protected:
    MovieLayout layout_;
};

} // namespace read_tiff
