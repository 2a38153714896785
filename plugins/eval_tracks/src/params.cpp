#include "params.hpp"

#include <nlohmann/json.hpp>

#include "errors.hpp"

namespace eval_tracks {

const char* const kParamsSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "gate_px": {"type": "number", "exclusiveMinimum": 0, "default": 5.0,
                "description": "Gate epsilon in pixels: the challenge's cut-off distance (5 px as published) and the per-frame matching gate of the fragmentation measure."},
    "min_track_length": {"type": "integer", "minimum": 1, "default": 1,
                         "description": "Predicted tracks with fewer points are dropped before scoring; 1 scores every track, as the challenge does. Ground-truth tracks are always kept."},
    "pixel_size_nm": {"type": "number", "minimum": 0, "default": 0,
                      "description": "Pixel size in nm, only to print RMSE in nm on the figures; 0 takes it from the tracks' stream info (and prints px only if that is 0 too)."},
    "labels": {"type": "array", "items": {"type": "string", "minLength": 1}, "default": [],
               "description": "Tracker names, one per edge into 'tracks', in recipe order; empty names each tracker by its upstream node id."},
    "wall_times_s": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}, "default": {},
                     "description": "Wall time in seconds per tracker label, copied into the wall_time_s column; trackers not named get null."},
    "files": {
      "type": "object", "additionalProperties": false,
      "description": "Output file names; an empty name skips that file. With several trackers the per-tracker files go into a folder named after each tracker.",
      "properties": {
        "track_statistics": {"type": "string", "default": "track_statistics.csv",
                             "description": "Per track (predicted and ground truth): length, frames, length class, challenge pairing."},
        "fragmentation": {"type": "string", "default": "fragmentation.csv",
                          "description": "Per ground-truth track: length, matched points, the predicted tracks covering it."},
        "track_length_analysis": {"type": "string", "default": "track_length_analysis.png",
                                  "description": "Figure: track-length histograms and length classes, predicted against ground truth."},
        "diagnostic_summary": {"type": "string", "default": "diagnostic_summary.png",
                               "description": "Figure: the measures, length classes and the fragmentation histogram."},
        "comparison": {"type": "string", "default": "comparison.csv",
                       "description": "With several trackers: one row per tracker."},
        "comparison_plot": {"type": "string", "default": "comparison.png",
                            "description": "With several trackers: the measures side by side."}
      }
    }
  }
})";

Params parse_params(const char* json) {
    try {
        const auto j = nlohmann::json::parse(json);
        Params p;
        p.gate_px = j.at("gate_px").get<double>();
        p.min_track_length = j.at("min_track_length").get<int64_t>();
        p.pixel_size_nm = j.at("pixel_size_nm").get<double>();
        p.labels = j.at("labels").get<std::vector<std::string>>();
        p.wall_times_s = j.at("wall_times_s").get<std::map<std::string, double>>();
        const auto& f = j.at("files");
        p.files = {f.at("track_statistics").get<std::string>(),      f.at("fragmentation").get<std::string>(),
                   f.at("track_length_analysis").get<std::string>(), f.at("diagnostic_summary").get<std::string>(),
                   f.at("comparison").get<std::string>(),            f.at("comparison_plot").get<std::string>()};
        if (!(p.gate_px > 0)) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "gate_px must be positive");
        return p;
    } catch (const nlohmann::json::exception& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("invalid params: ") + e.what());
    }
}

} // namespace eval_tracks
