// link.lap: global LAP linking with per-track motion models and gap closing.
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "lap_linker.hpp"
#include "spotflow/plugin.h"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow_tables/linker_node.hpp"

namespace link_lap {
namespace {

constexpr const char* kSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "motion": {"enum": ["imm", "constant_velocity", "brownian"], "default": "imm",
      "description": "Motion model. 'imm': a Kalman filter per track mixing Brownian and directed (constant-velocity) motion, as u-track does; 'constant_velocity': the directed model alone; 'brownian': the plain squared-distance cost of earlier versions (no filter)."},
    "max_distance": {"type": "number", "minimum": 0, "default": 0,
      "description": "Frame-to-frame search radius in pixels. 0: learnt from the data (the filter's covariance per track, or for 'brownian' gate_sigma x the rms displacement). > 0: a cap on the learnt radius (for 'brownian': the fixed gate)."},
    "max_gap": {"type": "integer", "minimum": 0, "default": 7,
      "description": "Gap closing: frames a track may skip (a blink); 0 turns gap closing off."},
    "max_gap_distance": {"type": "number", "minimum": 0, "default": 0,
      "description": "Gap closing: search radius in pixels between a segment's end and the start it joins. 0: learnt (the end's prediction propagated over the gap); > 0: a cap (for 'brownian': the fixed gate)."},
    "gate_sigma": {"type": "number", "exclusiveMinimum": 0, "default": 3.0,
      "description": "Gate in units of the predicted rms 2-D displacement (u-track's brownStdMult): a link must cost less than 2 gate_sigma^2 (the squared Mahalanobis distance for one model) times alternative_cost_factor."},
    "intensity_column": {"type": "string", "default": "photons",
      "description": "Column whose log is compared along a track (Kalman models), with its variance learnt from the data; '' or a column the table lacks: positions only."},
    "min_radius": {"type": "number", "minimum": 0, "default": 1.0,
      "description": "Smallest search radius in pixels (a floor on the predicted covariance), so near-immobile puncta keep a usable gate."},
    "alternative_cost": {"enum": ["cutoff", "percentile"], "default": "cutoff",
      "description": "Cost of leaving an end unlinked: 'cutoff' = factor x half the gate's cost, so every link inside the gate beats none; 'percentile' = TrackMate's factor x the cutoff percentile of the candidate costs."},
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

uint32_t count() { return 1; }
const spotflow_plugin_desc* plugin(uint32_t i) { return i == 0 ? &kDesc : nullptr; }

} // namespace
} // namespace link_lap

extern "C" SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {SPOTFLOW_ABI_VERSION_INIT, link_lap::count,
                                                                         link_lap::plugin};
