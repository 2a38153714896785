#include "max_projection.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "spotflow/plugin_error.hpp"
#include "spotflow/tensor.hpp"

namespace figure_tracks {
namespace {

using spotflow::PluginError;

template <class T> void fold(const void* data, int64_t frames, std::vector<double>& max) {
    const T* p = static_cast<const T*>(data);
    const size_t n = max.size();
    for (int64_t t = 0; t < frames; ++t, p += n)
        for (size_t i = 0; i < n; ++i) max[i] = std::max(max[i], static_cast<double>(p[i]));
}

} // namespace

void MaxProjection::add(const DLTensor& chunk) {
    if (chunk.device.device_type != kDLCPU || chunk.ndim != 3 || !spotflow::is_compact(chunk))
        throw PluginError(SPOTFLOW_ERR_UNSUPPORTED,
                          "the movie must arrive as compact CPU T x H x W chunks (got " + std::to_string(chunk.ndim) +
                              " dimensions)");
    const int64_t h = chunk.shape[1], w = chunk.shape[2];
    if (frames_ == 0 && max_.empty()) {
        width_ = w, height_ = h;
        max_.assign(static_cast<size_t>(w * h), -std::numeric_limits<double>::infinity());
    } else if (w != width_ || h != height_) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "a movie chunk is " + std::to_string(w) + "x" +
                                                             std::to_string(h) + " pixels, the first was " +
                                                             std::to_string(width_) + "x" + std::to_string(height_));
    }
    const void* data = static_cast<const char*>(chunk.data) + chunk.byte_offset;
    const DLDataType t = chunk.dtype;
    const int64_t frames = chunk.shape[0];
    using spotflow::dl_dtype;
    using spotflow::same_dtype;
    if (same_dtype(t, dl_dtype<uint8_t>())) fold<uint8_t>(data, frames, max_);
    else if (same_dtype(t, dl_dtype<uint16_t>())) fold<uint16_t>(data, frames, max_);
    else if (same_dtype(t, dl_dtype<uint32_t>())) fold<uint32_t>(data, frames, max_);
    else if (same_dtype(t, dl_dtype<int8_t>())) fold<int8_t>(data, frames, max_);
    else if (same_dtype(t, dl_dtype<int16_t>())) fold<int16_t>(data, frames, max_);
    else if (same_dtype(t, dl_dtype<int32_t>())) fold<int32_t>(data, frames, max_);
    else if (same_dtype(t, dl_dtype<float>())) fold<float>(data, frames, max_);
    else if (same_dtype(t, dl_dtype<double>())) fold<double>(data, frames, max_);
    else throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, "movie pixel type " + spotflow::dtype_name(t) + " is not supported");
    frames_ += frames;
}

} // namespace figure_tracks
