// example.frame_stats: a third-party plugin in C++ on the SDK's helpers. For
// each frame of the movie, one row: frame, mean and max of (pixel - offset).
#include <algorithm>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>
#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/tensor.hpp"

namespace frame_stats {
namespace {

// One node per run; the host calls it from one thread at a time.
class FrameStats {
public:
    static constexpr const char* kContext = "example.frame_stats";
    // The host has checked params against kSchema and filled the default.
    FrameStats(const spotflow_host*, const char* params_json)
        : offset_(nlohmann::json::parse(params_json).at("offset").get<double>()) {}

    spotflow_status process(const spotflow_input&, const spotflow_packet& p, const spotflow_emitter* out) {
        const DLTensor& t = p.tensor->dl_tensor;
        if (t.ndim != 3 || !spotflow::is_compact(t))
            throw spotflow::PluginError(SPOTFLOW_ERR_UNSUPPORTED, "chunk at frame " + std::to_string(p.info.frame_offset) +
                                                                      " is not a compact T x H x W movie");
        spotflow::TableBuilder b;
        const size_t frame = b.add_column("frame", spotflow::ColumnType::Int64);
        const size_t mean = b.add_column("mean", spotflow::ColumnType::Float64);
        const size_t max = b.add_column("max", spotflow::ColumnType::Float64);
        const int64_t n = t.shape[1] * t.shape[2];
        for (int64_t f = 0; f < t.shape[0]; ++f) {
            double sum = 0, top = -std::numeric_limits<double>::infinity();
            for (int64_t i = f * n; i < (f + 1) * n; ++i) {
                const double v = spotflow::element_as_double(t, i) - offset_;
                sum += v;
                top = std::max(top, v);
            }
            b.append_int(frame, p.info.frame_offset + f);
            b.append_double(mean, n > 0 ? sum / static_cast<double>(n) : 0.0);
            b.append_double(max, top);
        }
        return spotflow::emit_table(out, 0, b, p.info);
    }
private:
    double offset_;
};
const char* const kSchema = R"({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
  "additionalProperties": false, "properties": {"offset": {"type": "number", "default": 0,
  "description": "Camera baseline in ADU, subtracted from every pixel."}}})";
const spotflow_port_desc kIn[] = {{"movie", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, 0, "T x H x W chunks, any pixel type"}};
const spotflow_port_desc kOut[] = {{"stats", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, 0, "frame, mean, max"}};
const spotflow_node_vtable kVtable = spotflow::node_vtable<FrameStats>();
const spotflow_plugin_desc kDesc = {"example.frame_stats", "1.0.0", "Per-frame mean and maximum of a movie", "extractor",
                                    kIn, 1, 1, kOut, kSchema, &kVtable, nullptr};

} // namespace
} // namespace frame_stats
SPOTFLOW_EXPORT_PLUGINS(frame_stats::kDesc);
