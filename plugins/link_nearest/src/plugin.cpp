// link.nearest: greedy nearest-neighbour linking within a radius.
#include <numeric>

#include <nlohmann/json.hpp>

#include "nearest.hpp"
#include "spotflow/plugin.h"
#include "spotflow/node.hpp"
#include "spotflow_tables/accumulator.hpp"

namespace link_nearest {
namespace {

constexpr const char* kSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "max_distance": {"type": "number", "exclusiveMinimum": 0, "default": 5.0,
      "description": "Largest displacement in pixels between linked detections."},
    "max_gap": {"type": "integer", "minimum": 0, "default": 0,
      "description": "Frames a track may skip (0: links only consecutive frames)."}
  }
})";

class Linker {
public:
    static constexpr const char* kContext = "linking";

    Linker(const spotflow_host*, const char* params_json) {
        const auto p = nlohmann::json::parse(params_json);
        options_ = {p.at("max_distance"), p.at("max_gap")};
    }

    spotflow_status process(const spotflow_input&, const spotflow_packet& in, const spotflow_emitter*) {
        try {
            detections_.append(in.schema, in.array);
        } catch (const std::invalid_argument& e) {
            throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("detections: ") + e.what());
        }
        return SPOTFLOW_OK;
    }

    spotflow_status finish(const spotflow_emitter* out) {
        std::vector<int64_t> frame;
        std::vector<double> x, y;
        try {
            frame = detections_.ints("frame");
            x = detections_.doubles("x");
            y = detections_.doubles("y");
        } catch (const std::invalid_argument& e) {
            if (detections_.rows() > 0 || !detections_.names().empty())
                throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("detections: ") + e.what());
        }
        const auto ids = link(frame, x, y, options_);
        std::vector<int64_t> order(ids.size());
        std::iota(order.begin(), order.end(), 0);
        spotflow_packet p{};
        p.kind = SPOTFLOW_DATA_TABLE;
        p.info.total_frames = -1;
        detections_.build(order, {{"track_id", ids}}, &p.schema, &p.array);
        return out->emit(out, 0, &p);
    }

private:
    Options options_;
    spotflow::tables::TableAccumulator detections_;
};

const spotflow_port_desc kInputs[] = {{"detections", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE,
                                       SPOTFLOW_PORT_WHOLE_STREAM, "frame, x, y and any other columns"}};
const spotflow_port_desc kOutputs[] = {
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, 0, "the detections' columns plus track_id"}};
const spotflow_node_vtable kVtable = spotflow::node_vtable<Linker>();
const spotflow_plugin_desc kDesc = {"link.nearest", "1.0.0",
                                    "Greedy nearest-neighbour linking within a radius (the baseline tracker)", "linker",
                                    kInputs, 1, 1, kOutputs, kSchema, &kVtable, nullptr};

uint32_t count() { return 1; }
const spotflow_plugin_desc* plugin(uint32_t i) { return i == 0 ? &kDesc : nullptr; }

} // namespace
} // namespace link_nearest

extern "C" SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {SPOTFLOW_ABI_VERSION_INIT, link_nearest::count,
                                                                         link_nearest::plugin};
