// link.lap: global LAP linking with per-track motion models and gap closing.
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "lap_linker.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow_tables/linker_node.hpp"
#include "schema.json.hpp"

namespace link_lap {
namespace {

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

class Linker : public spotflow::tables::LinkerNode {
public:
    static constexpr const char* kContext = "linking";

    Linker(const spotflow_host* host, const char* params_json) : LinkerNode(host, "link.lap", params_json), host_(host) {
        const auto p = nlohmann::json::parse(params_json);
        // The newer params default here too, for hosts that pass only the older ones.
        const std::string motion = p.value("motion", "imm");
        if (motion != "imm" && motion != "constant_velocity" && motion != "brownian")
            throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                                        "param 'motion' must be one of imm, constant_velocity, brownian, got '" + motion + "'");
        options_.motion = motion == "brownian" ? Motion::Brownian
                          : motion == "constant_velocity" ? Motion::ConstantVelocity
                                                          : Motion::Imm;
        options_.max_distance = p.at("max_distance");
        options_.gate_sigma = p.value("gate_sigma", 3.0);
        options_.min_radius = p.value("min_radius", 1.0);
        options_.max_gap = p.at("max_gap");
        intensity_column_ = p.value("intensity_column", std::string("photons"));
        options_.crowding_radius = p.value("crowding_radius", 6.0);
        options_.max_gap_distance = p.at("max_gap_distance");
        options_.percentile_alternative = p.at("alternative_cost") == "percentile";
        options_.alternative_cost_factor = p.at("alternative_cost_factor");
        options_.cutoff_percentile = p.at("cutoff_percentile");
        options_.threads = host->threads(host);
    }

    spotflow_status finish(const spotflow_emitter* out) {
        return emit_linked(out, [&](const auto& frame, const auto& x, const auto& y) {
            Result r;
            try {
                std::vector<double> photons;
                if (!intensity_column_.empty() && detections_.has(intensity_column_))
                    photons = detections_.doubles(intensity_column_);
                r = link(frame, x, y, options_, photons.empty() ? nullptr : &photons);
            } catch (const std::invalid_argument& e) {
                throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("detections: ") + e.what());
            }
            char note[400];
            std::snprintf(note, sizeof note,
                          "%lld frame-to-frame links, %lld gaps closed; displacement sd %.3g px per axis "
                          "(localisation %.3g px) %s from %lld pairs; largest search radius %.3g px",
                          static_cast<long long>(r.links), static_cast<long long>(r.gap_closures),
                          std::sqrt(r.scale.disp_var), std::sqrt(r.scale.meas_var),
                          r.scale.learnt ? "learnt" : "not learnt (fallback)", static_cast<long long>(r.scale.pairs),
                          r.max_search_radius);
            host_->log(host_, SPOTFLOW_LOG_INFO, note);
            return std::move(r.track);
        });
    }

private:
    const spotflow_host* host_;
    Options options_;
    std::string intensity_column_;
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Linker>();

const spotflow_port_desc kInputs[] = {{"detections", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE,
                                       SPOTFLOW_PORT_WHOLE_STREAM, "frame, x, y and any other columns"}};
const spotflow_port_desc kOutputs[] = {
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, 0, "the detections' columns plus track_id"}};
const spotflow_plugin_desc kDesc = {"link.lap", "1.1.0",
                                    "Global LAP linking frame to frame, then gap closing over segments (u-track/TrackMate)",
                                    "linker",
                                    kInputs, 1, 1, kOutputs, kSchema, &kVtable, nullptr};
} // namespace
} // namespace link_lap

SPOTFLOW_EXPORT_PLUGINS(link_lap::kDesc);
