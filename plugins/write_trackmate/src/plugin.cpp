// write.trackmate_xml: a tracks table as a TrackMate session file, so that
// spotflow's tracks open in Fiji's TrackMate (File > Load a TrackMate file)
// for viewing, editing and TrackMate's own analyses.
#include <algorithm>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "spotflow/plugin.h"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "track_table.hpp"
#include "trackmate_xml.hpp"

namespace write_trackmate {
namespace {

using spotflow::guarded;
using spotflow::PluginError;

constexpr const char* kSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "file": {"type": "string", "minLength": 1, "default": "tracks_trackmate.xml",
             "description": "Name of the XML file inside the run's output folder."},
    "image_file": {"type": "string", "default": "",
                   "description": "The movie's file name, relative to the XML's folder, for TrackMate to open with the tracks; empty = none (TrackMate shows a blank image)."},
    "image_width": {"type": "integer", "minimum": 0, "default": 0,
                    "description": "Image width in px; 0 = the smallest that holds every point."},
    "image_height": {"type": "integer", "minimum": 0, "default": 0,
                     "description": "Image height in px; 0 = the smallest that holds every point."},
    "n_frames": {"type": "integer", "minimum": 0, "default": 0,
                 "description": "Frames in the movie; 0 = the stream's total, else the last frame with a point + 1."},
    "pixel_size_nm": {"type": "number", "minimum": 0, "default": 0,
                      "description": "Pixel size in nm; 0 = the stream's; unknown leaves positions in pixels."},
    "frame_interval_s": {"type": "number", "minimum": 0, "default": 0,
                         "description": "Time between frames in s; 0 = the stream's; unknown leaves times in frames."},
    "radius_px": {"type": "number", "exclusiveMinimum": 0, "default": 2.0,
                  "description": "RADIUS of every spot in px (how TrackMate draws it)."}
  }
})";

struct Params {
    std::string file, image_file;
    int64_t width, height, frames;
    double pixel_size_nm, frame_interval_s, radius_px;
};

Params parse_params(const char* json) {
    try {
        const auto j = nlohmann::json::parse(json);
        Params p{j.at("file").get<std::string>(),     j.at("image_file").get<std::string>(),
                 j.at("image_width").get<int64_t>(),   j.at("image_height").get<int64_t>(),
                 j.at("n_frames").get<int64_t>(),      j.at("pixel_size_nm").get<double>(),
                 j.at("frame_interval_s").get<double>(), j.at("radius_px").get<double>()};
        if (!(p.radius_px > 0)) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "radius_px must be above 0");
        return p;
    } catch (const nlohmann::json::exception& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("invalid params: ") + e.what());
    }
}

struct Writer {
    const spotflow_host* host;
    Params params;
    std::string path;
    TrackTable table;
    double stream_pixel_nm = 0, stream_interval_s = 0;
    int64_t stream_frames = 0;
};

void* create(const spotflow_host* host, const char* params_json) {
    Writer* writer = nullptr;
    guarded(host, "creating write.trackmate_xml", [&] {
        Params p = parse_params(params_json);
        std::string path = spotflow::output_path(host, p.file);
        writer = new Writer{host, std::move(p), std::move(path), {}};
        return SPOTFLOW_OK;
    });
    return writer;
}

spotflow_status process(void* self, const spotflow_input*, const spotflow_packet* packet, const spotflow_emitter*) {
    auto& w = *static_cast<Writer*>(self);
    return guarded(w.host, "collecting tracks for '" + w.params.file + "'", [&] {
        w.table.add(*packet);
        if (w.stream_pixel_nm <= 0) w.stream_pixel_nm = packet->info.pixel_size_nm;
        if (w.stream_interval_s <= 0) w.stream_interval_s = packet->info.frame_interval_s;
        if (w.stream_frames <= 0) w.stream_frames = packet->info.total_frames;
        return SPOTFLOW_OK;
    });
}

spotflow_status finish(void* self, const spotflow_emitter*) {
    auto& w = *static_cast<Writer*>(self);
    return guarded(w.host, "writing '" + w.params.file + "'", [&] {
        const Params& p = w.params;
        const double pixel_nm = p.pixel_size_nm > 0 ? p.pixel_size_nm : w.stream_pixel_nm;
        const Calibration cal{pixel_nm > 0 ? pixel_nm / 1000.0 : 0.0,
                              p.frame_interval_s > 0 ? p.frame_interval_s : std::max(w.stream_interval_s, 0.0)};
        const ImageInfo image{p.image_file, p.width, p.height, p.frames > 0 ? p.frames : std::max<int64_t>(w.stream_frames, 0),
                              p.radius_px};
        const Written written = write_trackmate(w.path, w.table, cal, image);
        std::string note = fmt::format("{} spots, {} tracks", written.spots, written.tracks);
        if (written.lone_spots) note += fmt::format("; {} one-point tracks written as lone spots", written.lone_spots);
        if (w.table.skipped()) note += fmt::format("; {} rows without a position left out", w.table.skipped());
        w.host->log(w.host, SPOTFLOW_LOG_INFO, note.c_str());
        return SPOTFLOW_OK;
    });
}

void destroy(void* self) { delete static_cast<Writer*>(self); }

const spotflow_node_vtable kVtable = {create, nullptr, process, finish, destroy};

const spotflow_port_desc kInputs[] = {
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM,
     "frame, x, y, track_id (z optional); other numeric columns become spot features"}};

const spotflow_plugin_desc kDescriptor = {
    "write.trackmate_xml", "1.0.0", "Writes tracks as a TrackMate session file that Fiji's TrackMate opens",
    "writer",              kInputs, 1,
    0,                     nullptr, kSchema,
    &kVtable,              nullptr};

uint32_t plugin_count() { return 1; }
const spotflow_plugin_desc* plugin(uint32_t i) { return i == 0 ? &kDescriptor : nullptr; }

} // namespace
} // namespace write_trackmate

extern "C" SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {
    SPOTFLOW_ABI_VERSION_INIT, write_trackmate::plugin_count, write_trackmate::plugin};
