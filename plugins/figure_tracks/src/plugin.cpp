// figure.tracks_overlay: tracking_overlay.png, the tracks drawn over the
// movie's maximum-intensity projection (seed 000's pipeline output).
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "max_projection.hpp"
#include "overlay_drawing.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/params.hpp"
#include "spotflow/plugin_error.hpp"
#include "track_paths.hpp"
#include "schema.json.hpp"

namespace figure_tracks {
namespace {

using spotflow::PluginError;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

enum Port { kMovie = 0, kTracks = 1 };

struct Params {
    std::string file;
    OverlayStyle style;
};

Params parse_params(const char* json) {
    return spotflow::read_params(json, [](const nlohmann::json& j) -> Params {
        return {j.at("file").get<std::string>(),
                {j.at("scale").get<int>(), j.at("min_points").get<int64_t>(), j.at("pixel_size_nm").get<double>(),
                 j.at("title").get<std::string>()}};
    });
}

// One node: keeps the movie's running maximum and the tracks, draws at
// finish.
class Figure {
public:
    static constexpr const char* kContext = "figure.tracks_overlay";

    Figure(const spotflow_host* host, const char* params_json)
        : host(host), params(parse_params(params_json)), path(spotflow::output_path(host, params.file)) {}

    std::string context() const { return "drawing '" + params.file + "'"; }

    spotflow_status process(const spotflow_input& input, const spotflow_packet& packet, const spotflow_emitter*) {
        if (input.port == kMovie) {
            if (packet.kind != SPOTFLOW_DATA_TENSOR || !packet.tensor)
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "the movie input received a table");
            projection.add(packet.tensor->dl_tensor);
        } else {
            tracks.add(packet);
        }
        if (stream_pixel_nm <= 0) stream_pixel_nm = packet.info.pixel_size_nm;
        return SPOTFLOW_OK;
    }

    spotflow_status finish(const spotflow_emitter*) {
        if (projection.empty())
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "no movie frame arrived: nothing to draw the tracks on");
        OverlayStyle style = params.style;
        if (style.pixel_size_nm <= 0) style.pixel_size_nm = stream_pixel_nm;
        const Drawn drawn = draw_overlay(path, projection, tracks.sorted(), style);
        host->log(host, SPOTFLOW_LOG_INFO,
                  fmt::format("{} tracks drawn over {} frames, {} output px per movie px", drawn.tracks,
                              projection.frames(), drawn.scale)
                      .c_str());
        return SPOTFLOW_OK;
    }

private:
    const spotflow_host* host;
    Params params;
    std::string path;
    MaxProjection projection;
    TrackPaths tracks;
    double stream_pixel_nm = 0;
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Figure>();

const spotflow_port_desc kInputs[] = {
    {"movie", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, 0, "T x H x W chunks; only their running maximum is kept"},
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM, "frame, x, y, track_id"},
};

const spotflow_plugin_desc kDescriptor = {
    "figure.tracks_overlay", "1.0.0", "Draws tracks over the movie's maximum-intensity projection (PNG)",
    "figure",                kInputs, 2,
    0,                       nullptr, kSchema,
    &kVtable,                nullptr};

} // namespace
} // namespace figure_tracks

SPOTFLOW_EXPORT_PLUGINS(figure_tracks::kDescriptor);
