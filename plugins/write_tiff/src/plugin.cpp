// write.tiff: writes the movie it receives as a multi-page TIFF in the run's
// output folder, page by page as chunks arrive.
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "errors.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin.h"
#include "spotflow/tensor.hpp"
#include "tiffio/movie_writer.hpp"

namespace write_tiff {
namespace {

using tiffio::MovieFormat;
using tiffio::MovieWriter;

constexpr const char* kSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "file": {"type": "string", "minLength": 1, "default": "movie.tif",
             "description": "Name of the TIFF file inside the run's output folder."},
    "bigtiff": {"type": "boolean", "default": false,
                "description": "Write BigTIFF; chosen anyway when the movie's known length exceeds a classic TIFF."}
  }
})";

struct Params {
    std::string file;
    bool bigtiff;
};

Params parse_params(const char* json) {
    try {
        const auto j = nlohmann::json::parse(json);
        return {j.at("file").get<std::string>(), j.at("bigtiff").get<bool>()};
    } catch (const nlohmann::json::exception& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("invalid params: ") + e.what());
    }
}

bool supported(DLDataType t) {
    if (t.lanes != 1) return false;
    if (t.code == kDLUInt || t.code == kDLInt) return t.bits == 8 || t.bits == 16 || t.bits == 32;
    return t.code == kDLFloat && (t.bits == 32 || t.bits == 64);
}

std::string describe(const MovieFormat& f) {
    return fmt::format("{}x{} {}", f.width, f.height, spotflow::dtype_name(f.dtype));
}

// The chunk's layout, after checking it is a movie this writer can store.
MovieFormat chunk_format(const spotflow_packet& p) {
    const std::string chunk = fmt::format("chunk at frame {}", p.info.frame_offset);
    if (p.kind != SPOTFLOW_DATA_TENSOR || !p.tensor)
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, chunk + " is not a tensor");
    const DLTensor& t = p.tensor->dl_tensor;
    if (t.device.device_type != kDLCPU) throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, chunk + " is not on the CPU");
    if (t.ndim != 3)
        throw PluginError(SPOTFLOW_ERR_UNSUPPORTED,
                          fmt::format("{} has {} dimensions; write.tiff writes T x H x W movies", chunk, t.ndim));
    if (!supported(t.dtype))
        throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, chunk + " is " + spotflow::dtype_name(t.dtype) +
                                                        "; supported: uint8/16/32, int8/16/32, float32/64");
    if (!spotflow::is_compact(t)) throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, chunk + " is not compact row-major");
    if (t.shape[1] <= 0 || t.shape[2] <= 0) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, chunk + " has no pixels");
    MovieFormat f;
    f.height = t.shape[1];
    f.width = t.shape[2];
    f.dtype = t.dtype;
    f.pixel_size_nm = p.info.pixel_size_nm;
    f.frame_interval_s = p.info.frame_interval_s;
    f.software = "spotflow write.tiff";
    return f;
}

struct Writer {
    const spotflow_host* host;
    Params params;
    std::string path;
    std::unique_ptr<MovieWriter> movie; // opened by the first chunk, which fixes the layout
};

void* create(const spotflow_host* host, const char* params_json) {
    Writer* writer = nullptr;
    guarded(host, "creating write.tiff", [&] {
        Params p = parse_params(params_json);
        std::string path = spotflow::output_path(host, p.file);
        writer = new Writer{host, std::move(p), std::move(path), nullptr};
        return SPOTFLOW_OK;
    });
    return writer;
}

spotflow_status process(void* self, const spotflow_input*, const spotflow_packet* packet, const spotflow_emitter*) {
    auto& w = *static_cast<Writer*>(self);
    return guarded(w.host, "writing '" + w.params.file + "'", [&] {
        const MovieFormat f = chunk_format(*packet);
        if (!w.movie) {
            w.movie = std::make_unique<MovieWriter>(w.host, w.path, f, packet->info.total_frames, w.params.bigtiff);
        } else if (f.width != w.movie->format().width || f.height != w.movie->format().height ||
                   !spotflow::same_dtype(f.dtype, w.movie->format().dtype)) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                              fmt::format("chunk at frame {} is {}, but the movie began as {}",
                                          packet->info.frame_offset, describe(f), describe(w.movie->format())));
        }
        const DLTensor& t = packet->tensor->dl_tensor;
        w.movie->write_frames(static_cast<const unsigned char*>(t.data) + t.byte_offset, t.shape[0]);
        w.host->progress(w.host, w.movie->frames(), packet->info.total_frames);
        return SPOTFLOW_OK;
    });
}

spotflow_status finish(void* self, const spotflow_emitter*) {
    auto& w = *static_cast<Writer*>(self);
    return guarded(w.host, "closing '" + w.params.file + "'", [&] {
        if (!w.movie) {
            w.host->log(w.host, SPOTFLOW_LOG_WARNING,
                        ("no frames arrived; '" + w.params.file + "' was not written").c_str());
            return SPOTFLOW_OK;
        }
        w.movie->close();
        return SPOTFLOW_OK;
    });
}

void destroy(void* self) { delete static_cast<Writer*>(self); }

const spotflow_node_vtable kVtable = {create, nullptr, process, finish, destroy};

const spotflow_port_desc kInputs[] = {
    {"movie", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, 0, "The movie to write, T x H x W chunks"}};

const spotflow_plugin_desc kDescriptor = {"write.tiff",
                                          "1.0.0",
                                          "Writes a movie as an ImageJ-compatible multi-page TIFF (BigTIFF when large)",
                                          "writer",
                                          kInputs,
                                          1,
                                          0,
                                          nullptr,
                                          kSchema,
                                          &kVtable,
                                          nullptr};

uint32_t plugin_count() { return 1; }
const spotflow_plugin_desc* plugin(uint32_t i) { return i == 0 ? &kDescriptor : nullptr; }

} // namespace
} // namespace write_tiff

extern "C" SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {SPOTFLOW_ABI_VERSION_INIT,
                                                                         write_tiff::plugin_count, write_tiff::plugin};
