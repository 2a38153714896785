// link.nearest: greedy nearest-neighbour linking within a radius.
#include <nlohmann/json.hpp>

#include "nearest.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow_tables/linker_node.hpp"
#include "schema.json.hpp"

namespace link_nearest {
namespace {

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

class Linker : public spotflow::tables::LinkerNode {
public:
    static constexpr const char* kContext = "linking";

    Linker(const spotflow_host* host, const char* params_json) : LinkerNode(host, "link.nearest", params_json) {
        const auto p = nlohmann::json::parse(params_json);
        options_ = {p.at("max_distance"), p.at("max_gap")};
    }

    spotflow_status finish(const spotflow_emitter* out) {
        return emit_linked(out, [&](const auto& frame, const auto& x, const auto& y) { return link(frame, x, y, options_); });
    }

private:
    Options options_;
};

const spotflow_port_desc kInputs[] = {{"detections", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE,
                                       SPOTFLOW_PORT_WHOLE_STREAM, "frame, x, y and any other columns"}};
const spotflow_port_desc kOutputs[] = {
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, 0, "the detections' columns plus track_id"}};
const spotflow_node_vtable kVtable = spotflow::node_vtable<Linker>();
const spotflow_plugin_desc kDesc = {"link.nearest", "1.0.0",
                                    "Greedy nearest-neighbour linking within a radius (the baseline tracker)", "linker",
                                    kInputs, 1, 1, kOutputs, kSchema, &kVtable, nullptr};

} // namespace
} // namespace link_nearest

SPOTFLOW_EXPORT_PLUGINS(link_nearest::kDesc);
