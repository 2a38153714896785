// write.tiff: writes the movie it receives as a multi-page TIFF in the run's
// output folder, page by page as chunks arrive.
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "errors.hpp"
#include "spotflow/node.hpp"
#include "spotflow/params.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/tensor.hpp"
#include "tiffio/movie_writer.hpp"
#include "schema.json.hpp"

namespace write_tiff {
namespace {

using tiffio::MovieFormat;
using tiffio::MovieWriter;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

struct Params {
    std::string file;
    bool bigtiff;
};

Params parse_params(const char* json) {
    return spotflow::read_params(json, [](const nlohmann::json& j) -> Params {
        return {j.at("file").get<std::string>(), j.at("bigtiff").get<bool>()};
    });
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

// One node: the first chunk opens the file and fixes the layout, every
// chunk appends its pages, finish closes the file.
class Writer {
public:
    static constexpr const char* kContext = "write.tiff";

    Writer(const spotflow_host* host, const char* params_json)
        : host_(host), params_(parse_params(params_json)), path_(spotflow::output_path(host, params_.file)) {}

    std::string context() const { return "writing '" + params_.file + "'"; }

    spotflow_status process(const spotflow_input&, const spotflow_packet& packet, const spotflow_emitter*) {
        const MovieFormat f = chunk_format(packet);
        if (!movie_) {
            movie_ = std::make_unique<MovieWriter>(host_, path_, f, packet.info.total_frames, params_.bigtiff);
        } else if (f.width != movie_->format().width || f.height != movie_->format().height ||
                   !spotflow::same_dtype(f.dtype, movie_->format().dtype)) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                              fmt::format("chunk at frame {} is {}, but the movie began as {}",
                                          packet.info.frame_offset, describe(f), describe(movie_->format())));
        }
        const DLTensor& t = packet.tensor->dl_tensor;
        movie_->write_frames(static_cast<const unsigned char*>(t.data) + t.byte_offset, t.shape[0]);
        host_->progress(host_, movie_->frames(), packet.info.total_frames);
        return SPOTFLOW_OK;
    }

    spotflow_status finish(const spotflow_emitter*) {
        if (!movie_) {
            host_->log(host_, SPOTFLOW_LOG_WARNING,
                       ("no frames arrived; '" + params_.file + "' was not written").c_str());
            return SPOTFLOW_OK;
        }
        movie_->close();
        return SPOTFLOW_OK;
    }

private:
    const spotflow_host* host_;
    Params params_;
    std::string path_;
    std::unique_ptr<MovieWriter> movie_; // opened by the first chunk, which fixes the layout
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Writer>();

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

} // namespace
} // namespace write_tiff

SPOTFLOW_EXPORT_PLUGINS(write_tiff::kDescriptor);
