// link.nearest: greedy nearest-neighbour linking within a radius.
#include <string>

#include <nlohmann/json.hpp>

#include "lap_linker.hpp"
#include "spotflow/plugin.h"
#include "spotflow/node.hpp"
#include "spotflow_tables/linker_node.hpp"

namespace link_lap {
namespace {

constexpr const char* kSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "max_distance": {"type": "number", "exclusiveMinimum": 0, "default": 5.0,
      "description": "Largest displacement in pixels between detections linked in consecutive frames."},
    "max_gap": {"type": "integer", "minimum": 0, "default": 2,
      "description": "Gap closing: frames a track may skip (a blink); 0 turns gap closing off."},
    "max_gap_distance": {"type": "number", "exclusiveMinimum": 0, "default": 7.0,
      "description": "Gap closing: largest distance in pixels between a segment's end and the start it joins."},
    "alternative_cost": {"enum": ["cutoff", "percentile"], "default": "cutoff",
      "description": "Cost of leaving an end unlinked: 'cutoff' = factor x half the squared gate, so every link inside the gate beats none; 'percentile' = TrackMate's factor x the cutoff percentile of the candidate costs."},
    "alternative_cost_factor": {"type": "number", "exclusiveMinimum": 0, "default": 1.05,
      "description": "Factor of the alternative cost (TrackMate's default 1.05)."},
    "cutoff_percentile": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.9,
      "description": "Percentile of the candidate costs the alternative cost is based on (TrackMate's default 0.9)."}
  }
})";

class Linker : public spotflow::tables::LinkerNode {
public:
    static constexpr const char* kContext = "linking";

    Linker(const spotflow_host* host, const char* params_json) : host_(host) {
        const auto p = nlohmann::json::parse(params_json);
        options_.max_distance = p.at("max_distance");
        options_.max_gap = p.at("max_gap");
        options_.max_gap_distance = p.at("max_gap_distance");
        options_.percentile_alternative = p.at("alternative_cost") == "percentile";
        options_.alternative_cost_factor = p.at("alternative_cost_factor");
        options_.cutoff_percentile = p.at("cutoff_percentile");
        options_.threads = host->threads(host);
    }

    spotflow_status finish(const spotflow_emitter* out) {
        return emit_linked(out, [&](const auto& frame, const auto& x, const auto& y) {
            Result r = link(frame, x, y, options_);
            const std::string note = std::to_string(r.links) + " frame-to-frame links, " +
                                     std::to_string(r.gap_closures) + " gaps closed";
            host_->log(host_, SPOTFLOW_LOG_DEBUG, note.c_str());
            return std::move(r.track);
        });
    }

private:
    const spotflow_host* host_;
    Options options_;
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Linker>();

const spotflow_port_desc kInputs[] = {{"detections", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE,
                                       SPOTFLOW_PORT_WHOLE_STREAM, "frame, x, y and any other columns"}};
const spotflow_port_desc kOutputs[] = {
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, 0, "the detections' columns plus track_id"}};
const spotflow_plugin_desc kDesc = {"link.lap", "1.0.0",
                                    "Global LAP linking frame to frame, then gap closing over segments (u-track/TrackMate)",
                                    "linker",
                                    kInputs, 1, 1, kOutputs, kSchema, &kVtable, nullptr};

uint32_t count() { return 1; }
const spotflow_plugin_desc* plugin(uint32_t i) { return i == 0 ? &kDesc : nullptr; }

} // namespace
} // namespace link_lap

extern "C" SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {SPOTFLOW_ABI_VERSION_INIT, link_lap::count,
                                                                         link_lap::plugin};
