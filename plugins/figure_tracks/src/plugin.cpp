// figure.tracks_overlay: tracking_overlay.png, the tracks drawn over the
// movie's maximum-intensity projection (seed 000's pipeline output).
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "max_projection.hpp"
#include "overlay_drawing.hpp"
#include "spotflow/plugin.h"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "track_paths.hpp"

namespace figure_tracks {
namespace {

using spotflow::guarded;
using spotflow::PluginError;

constexpr const char* kSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "file": {"type": "string", "minLength": 1, "default": "tracking_overlay.png",
             "description": "Name of the PNG inside the run's output folder."},
    "scale": {"type": "integer", "minimum": 0, "maximum": 16, "default": 0,
              "description": "Output pixels per movie pixel; 0 = the longer side reaches 768 px (1 to 8)."},
    "min_points": {"type": "integer", "minimum": 1, "default": 1,
                   "description": "Draw only tracks with at least this many detections (the title says how many of all)."},
    "pixel_size_nm": {"type": "number", "minimum": 0, "default": 0,
                      "description": "Pixel size in nm for the scale bar; 0 = the stream's; unknown = no scale bar."},
    "title": {"type": "string", "default": "",
              "description": "Figure title; empty = the number of tracks drawn and of frames projected."}
  }
})";

enum Port { kMovie = 0, kTracks = 1 };

struct Params {
    std::string file;
    OverlayStyle style;
};

Params parse_params(const char* json) {
    try {
        const auto j = nlohmann::json::parse(json);
        return {j.at("file").get<std::string>(),
                {j.at("scale").get<int>(), j.at("min_points").get<int64_t>(), j.at("pixel_size_nm").get<double>(),
                 j.at("title").get<std::string>()}};
    } catch (const nlohmann::json::exception& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("invalid params: ") + e.what());
    }
}

struct Figure {
    const spotflow_host* host;
    Params params;
    std::string path;
    MaxProjection projection;
    TrackPaths tracks;
    double stream_pixel_nm = 0;
};

void* create(const spotflow_host* host, const char* params_json) {
    Figure* figure = nullptr;
    guarded(host, "creating figure.tracks_overlay", [&] {
        Params p = parse_params(params_json);
        std::string path = spotflow::output_path(host, p.file);
        figure = new Figure{host, std::move(p), std::move(path), {}, {}};
        return SPOTFLOW_OK;
    });
    return figure;
}

spotflow_status process(void* self, const spotflow_input* input, const spotflow_packet* packet,
                        const spotflow_emitter*) {
    auto& f = *static_cast<Figure*>(self);
    return guarded(f.host, "drawing '" + f.params.file + "'", [&] {
        if (input->port == kMovie) {
            if (packet->kind != SPOTFLOW_DATA_TENSOR || !packet->tensor)
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "the movie input received a table");
            f.projection.add(packet->tensor->dl_tensor);
        } else {
            f.tracks.add(*packet);
        }
        if (f.stream_pixel_nm <= 0) f.stream_pixel_nm = packet->info.pixel_size_nm;
        return SPOTFLOW_OK;
    });
}

spotflow_status finish(void* self, const spotflow_emitter*) {
    auto& f = *static_cast<Figure*>(self);
    return guarded(f.host, "drawing '" + f.params.file + "'", [&] {
        if (f.projection.empty())
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "no movie frame arrived: nothing to draw the tracks on");
        OverlayStyle style = f.params.style;
        if (style.pixel_size_nm <= 0) style.pixel_size_nm = f.stream_pixel_nm;
        const Drawn drawn = draw_overlay(f.path, f.projection, f.tracks.sorted(), style);
        f.host->log(f.host, SPOTFLOW_LOG_INFO,
                    fmt::format("{} tracks drawn over {} frames, {} output px per movie px", drawn.tracks,
                                f.projection.frames(), drawn.scale)
                        .c_str());
        return SPOTFLOW_OK;
    });
}

void destroy(void* self) { delete static_cast<Figure*>(self); }

const spotflow_node_vtable kVtable = {create, nullptr, process, finish, destroy};

const spotflow_port_desc kInputs[] = {
    {"movie", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, 0, "T x H x W chunks; only their running maximum is kept"},
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM, "frame, x, y, track_id"},
};

const spotflow_plugin_desc kDescriptor = {
    "figure.tracks_overlay", "1.0.0", "Draws tracks over the movie's maximum-intensity projection (PNG)",
    "figure",                kInputs, 2,
    0,                       nullptr, kSchema,
    &kVtable,                nullptr};

uint32_t plugin_count() { return 1; }
const spotflow_plugin_desc* plugin(uint32_t i) { return i == 0 ? &kDescriptor : nullptr; }

} // namespace
} // namespace figure_tracks

extern "C" SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {
    SPOTFLOW_ABI_VERSION_INIT, figure_tracks::plugin_count, figure_tracks::plugin};
