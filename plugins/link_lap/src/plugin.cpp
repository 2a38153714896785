// link.nearest: greedy nearest-neighbour linking within a radius.
#include <numeric>
#include <string>

#include <nlohmann/json.hpp>

#include "lap_linker.hpp"
#include "spotflow/plugin.h"
#include "spotflow/plugin_error.hpp"
#include "spotflow_tables/accumulator.hpp"

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

struct Linker {
    const spotflow_host* host;
    Options options;
    spotflow::tables::TableAccumulator detections;
};

void* create(const spotflow_host* host, const char* params_json) {
    Linker* l = nullptr;
    spotflow::guarded(host, "create", [&]() -> spotflow_status {
        const auto p = nlohmann::json::parse(params_json);
        Options o;
        o.max_distance = p.at("max_distance");
        o.max_gap = p.at("max_gap");
        o.max_gap_distance = p.at("max_gap_distance");
        o.percentile_alternative = p.at("alternative_cost") == "percentile";
        o.alternative_cost_factor = p.at("alternative_cost_factor");
        o.cutoff_percentile = p.at("cutoff_percentile");
        o.threads = host->threads(host);
        l = new Linker{host, o, {}};
        return SPOTFLOW_OK;
    });
    return l;
}

spotflow_status process(void* self, const spotflow_input*, const spotflow_packet* in, const spotflow_emitter*) {
    auto& l = *static_cast<Linker*>(self);
    return spotflow::guarded(l.host, "reading detections", [&]() -> spotflow_status {
        try {
            l.detections.append(in->schema, in->array);
        } catch (const std::invalid_argument& e) {
            throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("detections: ") + e.what());
        }
        return SPOTFLOW_OK;
    });
}

spotflow_status finish(void* self, const spotflow_emitter* out) {
    auto& l = *static_cast<Linker*>(self);
    return spotflow::guarded(l.host, "linking", [&]() -> spotflow_status {
        std::vector<int64_t> frame;
        std::vector<double> x, y;
        try {
            frame = l.detections.ints("frame");
            x = l.detections.doubles("x");
            y = l.detections.doubles("y");
        } catch (const std::invalid_argument& e) {
            if (l.detections.rows() > 0 || !l.detections.names().empty())
                throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("detections: ") + e.what());
        }
        const Result r = link(frame, x, y, l.options);
        const auto& ids = r.track;
        const std::string note = std::to_string(r.links) + " frame-to-frame links, " + std::to_string(r.gap_closures) +
                                 " gaps closed";
        l.host->log(l.host, SPOTFLOW_LOG_DEBUG, note.c_str());
        std::vector<int64_t> order(ids.size());
        std::iota(order.begin(), order.end(), 0);
        spotflow_packet p{};
        p.kind = SPOTFLOW_DATA_TABLE;
        p.info.total_frames = -1;
        l.detections.build(order, {{"track_id", ids}}, &p.schema, &p.array);
        return out->emit(out, 0, &p);
    });
}

void destroy(void* self) { delete static_cast<Linker*>(self); }

const spotflow_port_desc kInputs[] = {{"detections", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE,
                                       SPOTFLOW_PORT_WHOLE_STREAM, "frame, x, y and any other columns"}};
const spotflow_port_desc kOutputs[] = {
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, 0, "the detections' columns plus track_id"}};
const spotflow_node_vtable kVtable = {create, nullptr, process, finish, destroy};
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
