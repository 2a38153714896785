// read.tiff: the movie source. Opens the file at create (so a bad path fails
// before any data flows) and emits one chunk of frames per pull.
#include <algorithm>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "errors.hpp"
#include "itk_source.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/params.hpp"
#include "spotflow/tensor.hpp"
#include "tiff_source.hpp"

namespace read_tiff {
namespace {

constexpr const char* kSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "required": ["path"],
  "properties": {
    "path": {"type": "string", "minLength": 1,
             "description": "The movie: multi-page TIFF or BigTIFF, or an image ITK reads (.mha, .nrrd, .nii, .mrc)."},
    "chunk_frames": {"type": "integer", "minimum": 1, "default": 16,
                     "description": "Frames per emitted chunk; memory use follows it."},
    "pixel_size_nm": {"type": "number", "minimum": 0, "default": 0,
                      "description": "Lateral pixel size in nm; 0 takes it from the file's resolution tags."},
    "frame_interval_s": {"type": "number", "minimum": 0, "default": 0,
                         "description": "Time between frames in s; 0 takes it from the file (ImageJ finterval)."},
    "channel": {"type": "integer", "minimum": 0, "default": 0,
                "description": "Channel index recorded in the stream info."},
    "allow_truncated": {"type": "boolean", "default": false,
                        "description": "Read the whole pages of a TIFF whose page chain is broken (an interrupted acquisition) instead of failing; a warning says how many."}
  }
})";

struct Params {
    std::string path;
    int64_t chunk_frames;
    double pixel_size_nm;
    double frame_interval_s;
    int32_t channel;
    bool allow_truncated;
};

Params parse_params(const char* json) {
    return spotflow::read_params(json, [](const nlohmann::json& j) -> Params {
        Params p{j.at("path").get<std::string>(), j.at("chunk_frames").get<int64_t>(),
                 j.at("pixel_size_nm").get<double>(), j.at("frame_interval_s").get<double>(),
                 j.at("channel").get<int32_t>(), j.at("allow_truncated").get<bool>()};
        if (p.chunk_frames < 1) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "chunk_frames must be at least 1");
        return p;
    });
}

// TIFF by its signature; anything else goes to ITK.
std::unique_ptr<MovieSource> open_movie(const spotflow_host* host, const std::string& path, bool allow_truncated) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
    unsigned char head[4] = {};
    const size_t n = f ? std::fread(head, 1, sizeof head, f.get()) : 0;
    if (!f || std::ferror(f.get()))
        throw PluginError(SPOTFLOW_ERR_IO, "cannot open movie '" + path + "': " + std::strerror(errno));
    f.reset();
    if (has_tiff_magic(head, n)) return std::make_unique<TiffSource>(host, path, allow_truncated);
    return std::make_unique<ItkSource>(path);
}

DLManagedTensor* allocate(DLDataType t, std::vector<int64_t> shape) {
    using spotflow::make_tensor;
    switch (t.code) {
    case kDLUInt:
        if (t.bits == 8) return make_tensor<uint8_t>(std::move(shape));
        if (t.bits == 16) return make_tensor<uint16_t>(std::move(shape));
        if (t.bits == 32) return make_tensor<uint32_t>(std::move(shape));
        break;
    case kDLInt:
        if (t.bits == 8) return make_tensor<int8_t>(std::move(shape));
        if (t.bits == 16) return make_tensor<int16_t>(std::move(shape));
        if (t.bits == 32) return make_tensor<int32_t>(std::move(shape));
        break;
    case kDLFloat:
        if (t.bits == 32) return make_tensor<float>(std::move(shape));
        if (t.bits == 64) return make_tensor<double>(std::move(shape));
        break;
    }
    throw std::logic_error("no tensor type for " + spotflow::dtype_name(t));
}

// At most a quarter of the machine's memory in one chunk: a larger chunk is
// read in fewer frames, a frame larger than that is refused.
uint64_t chunk_budget_bytes() {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return uint64_t{4} << 30;
    return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) / 4;
}

int64_t frames_per_chunk(const MovieLayout& m, int64_t wanted, const std::string& path) {
    const auto frame = static_cast<uint64_t>(m.frame_bytes());
    const uint64_t budget = chunk_budget_bytes();
    if (frame > budget)
        throw PluginError(SPOTFLOW_ERR_FORMAT, "movie '" + path + "': one " + std::to_string(m.width) + "x" +
                                                   std::to_string(m.height) + " frame takes " +
                                                   std::to_string(frame >> 20) + " MiB, more than a quarter of this machine's memory");
    return std::max<int64_t>(1, std::min<int64_t>(wanted, static_cast<int64_t>(budget / std::max<uint64_t>(frame, 1))));
}

// NaN pixels among n, and the index of the first (n if none).
template <typename T>
std::pair<int64_t, size_t> count_nan(const void* data, size_t n) {
    const T* p = static_cast<const T*>(data);
    int64_t c = 0;
    size_t first = n;
    for (size_t i = 0; i < n; ++i)
        if (std::isnan(p[i]) && c++ == 0) first = i;
    return {c, first};
}

// One source: opens the movie at create, emits chunk_frames frames a pull.
class Reader {
public:
    static constexpr const char* kContext = "read.tiff";

    Reader(const spotflow_host* host, const char* params_json)
        : host(host), params(parse_params(params_json)), source(open_movie(host, params.path, params.allow_truncated)),
          chunk(frames_per_chunk(source->layout(), params.chunk_frames, params.path)) {}

    std::string context() const { return "reading movie '" + params.path + "'"; }

    spotflow_status pull(const spotflow_emitter* out) {
        const MovieLayout& m = source->layout();
        if (next_frame >= m.frames) return SPOTFLOW_DONE;
        const int64_t count = std::min(chunk, m.frames - next_frame);

        std::unique_ptr<DLManagedTensor, void (*)(DLManagedTensor*)> tensor(
            allocate(m.dtype, {count, m.height, m.width}), spotflow::release_tensor);
        source->read_frames(next_frame, count, tensor->dl_tensor.data);
        note_nan(tensor->dl_tensor.data, static_cast<size_t>(count * m.height * m.width), next_frame, count);

        spotflow_packet packet{};
        packet.kind = SPOTFLOW_DATA_TENSOR;
        packet.info.frame_offset = next_frame;
        packet.info.frame_count = count;
        packet.info.total_frames = m.frames;
        packet.info.pixel_size_nm = params.pixel_size_nm > 0 ? params.pixel_size_nm : m.pixel_size_nm;
        packet.info.frame_interval_s = params.frame_interval_s > 0 ? params.frame_interval_s : m.frame_interval_s;
        packet.info.channel = params.channel;
        packet.tensor = tensor.release();
        next_frame += count;
        host->progress(host, next_frame, m.frames);
        return out->emit(out, 0, &packet);
    }

private:
    // A NaN pixel in a float movie silently hides a spot from the detectors:
    // count them and say so once, when the last frame is read.
    void note_nan(const void* data, size_t n, int64_t first, int64_t count) {
        const DLDataType t = source->layout().dtype;
        if (t.code != kDLFloat) return;
        const auto [c, at] = t.bits == 32 ? count_nan<float>(data, n) : count_nan<double>(data, n);
        const auto plane = static_cast<size_t>(source->layout().height * source->layout().width);
        if (c > 0 && nan_pixels == 0) first_nan_frame = first + static_cast<int64_t>(at / plane);
        nan_pixels += c;
        if (first + count == source->layout().frames && nan_pixels > 0)
            host->log(host, SPOTFLOW_LOG_WARNING,
                      ("movie '" + params.path + "' has " + std::to_string(nan_pixels) +
                       " NaN pixel(s), the first in frame " + std::to_string(first_nan_frame) +
                       "; spots on them may be missed")
                          .c_str());
    }

    const spotflow_host* host;
    Params params;
    std::unique_ptr<MovieSource> source;
    int64_t chunk;
    int64_t next_frame = 0;
    int64_t nan_pixels = 0, first_nan_frame = 0;
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Reader>();

const spotflow_port_desc kOutputs[] = {
    {"movie", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, 0, "The movie, T x H x W chunks in the file's pixel type"}};

const spotflow_plugin_desc kDescriptor = {
    "read.tiff", "1.0.0",  "Reads a multi-page TIFF/BigTIFF movie (or an image ITK reads) in chunks of frames",
    "source",    nullptr,  0,
    1,           kOutputs, kSchema,
    &kVtable,    nullptr};

} // namespace
} // namespace read_tiff

SPOTFLOW_EXPORT_PLUGINS(read_tiff::kDescriptor);
