// write.trackmate_xml: a tracks table as a TrackMate session file, so that
// spotflow's tracks open in Fiji's TrackMate (File > Load a TrackMate file)
// for viewing, editing and TrackMate's own analyses.
#include <algorithm>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/params.hpp"
#include "spotflow/plugin_error.hpp"
#include "track_table.hpp"
#include "trackmate_xml.hpp"
#include "schema.json.hpp"

namespace write_trackmate {
namespace {

using spotflow::PluginError;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

struct Params {
    std::string file, image_file;
    int64_t width, height, frames;
    double pixel_size_nm, frame_interval_s, radius_px;
};

Params parse_params(const char* json) {
    return spotflow::read_params(json, [](const nlohmann::json& j) -> Params {
        Params p{j.at("file").get<std::string>(),     j.at("image_file").get<std::string>(),
                 j.at("image_width").get<int64_t>(),   j.at("image_height").get<int64_t>(),
                 j.at("n_frames").get<int64_t>(),      j.at("pixel_size_nm").get<double>(),
                 j.at("frame_interval_s").get<double>(), j.at("radius_px").get<double>()};
        if (!(p.radius_px > 0)) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "radius_px must be above 0");
        return p;
    });
}

// One node: collects the whole stream, writes the file at finish.
class Writer {
public:
    static constexpr const char* kContext = "write.trackmate_xml";

    Writer(const spotflow_host* host, const char* params_json)
        : host(host), params(parse_params(params_json)), path(spotflow::output_path(host, params.file)) {}

    std::string context() const { return "writing '" + params.file + "'"; }

    spotflow_status process(const spotflow_input&, const spotflow_packet& packet, const spotflow_emitter*) {
        table.add(packet);
        if (stream_pixel_nm <= 0) stream_pixel_nm = packet.info.pixel_size_nm;
        if (stream_interval_s <= 0) stream_interval_s = packet.info.frame_interval_s;
        if (stream_frames <= 0) stream_frames = packet.info.total_frames;
        return SPOTFLOW_OK;
    }

    spotflow_status finish(const spotflow_emitter*) {
        const Params& p = params;
        const double pixel_nm = p.pixel_size_nm > 0 ? p.pixel_size_nm : stream_pixel_nm;
        const Calibration cal{pixel_nm > 0 ? pixel_nm / 1000.0 : 0.0,
                              p.frame_interval_s > 0 ? p.frame_interval_s : std::max(stream_interval_s, 0.0)};
        const ImageInfo image{p.image_file, p.width, p.height, p.frames > 0 ? p.frames : std::max<int64_t>(stream_frames, 0),
                              p.radius_px};
        const Written written = write_trackmate(path, table, cal, image);
        std::string note = fmt::format("{} spots, {} tracks", written.spots, written.tracks);
        if (written.lone_spots) note += fmt::format("; {} one-point tracks written as lone spots", written.lone_spots);
        if (table.skipped()) note += fmt::format("; {} rows without a position left out", table.skipped());
        host->log(host, SPOTFLOW_LOG_INFO, note.c_str());
        return SPOTFLOW_OK;
    }

private:
    const spotflow_host* host;
    Params params;
    std::string path;
    TrackTable table;
    double stream_pixel_nm = 0, stream_interval_s = 0;
    int64_t stream_frames = 0;
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Writer>();

const spotflow_port_desc kInputs[] = {
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM,
     "frame, x, y, track_id (z optional); other numeric columns become spot features"}};

const spotflow_plugin_desc kDescriptor = {
    "write.trackmate_xml", "1.0.0", "Writes tracks as a TrackMate session file that Fiji's TrackMate opens",
    "writer",              kInputs, 1,
    0,                     nullptr, kSchema,
    &kVtable,              nullptr};

} // namespace
} // namespace write_trackmate

SPOTFLOW_EXPORT_PLUGINS(write_trackmate::kDescriptor);
