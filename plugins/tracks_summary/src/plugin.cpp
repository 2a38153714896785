// tracks.summary: one row per track (seed 000's track_summary.csv), emitted
// at finish once the whole tracks stream has been seen.
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "spotflow/plugin.h"
#include "spotflow/plugin_error.hpp"
#include "statistics_figure.hpp"
#include "summary.hpp"

namespace tracks_summary {
namespace {

using spotflow::ColumnType;
using spotflow::guarded;
using spotflow::PluginError;

constexpr const char* kSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "frame_interval_s": {"type": "number", "minimum": 0, "default": 0,
                         "description": "Time between frames in s for the duration_s column; 0 takes it from the stream info, and without one duration_s is left out."},
    "figure": {"type": "string", "default": "",
               "description": "File name of the track statistics figure (length and duration histograms, tracks alive per frame), e.g. track_statistics.png; empty draws none."}
  }
})";

struct Node {
    const spotflow_host* host;
    double frame_interval_s;
    std::string figure_path; // claimed at create so a clash fails before the run
    spotflow_stream_info info{};
    Summary summary;
};

void* create(const spotflow_host* host, const char* params_json) {
    Node* node = nullptr;
    guarded(host, "creating tracks.summary", [&] {
        double dt = 0;
        std::string figure;
        try {
            const auto j = nlohmann::json::parse(params_json);
            dt = j.at("frame_interval_s").get<double>();
            figure = j.value("figure", "");
        } catch (const nlohmann::json::exception& e) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("invalid params: ") + e.what());
        }
        std::string path;
        if (!figure.empty()) {
            char buf[4096];
            if (const auto s = host->output_path(host, figure.c_str(), buf, sizeof buf); s != SPOTFLOW_OK)
                throw PluginError(s, "cannot write the figure '" + figure + "'");
            path = buf;
        }
        node = new Node{host, dt, std::move(path), {}, {}};
        node->info.total_frames = -1;
        return SPOTFLOW_OK;
    });
    return node;
}

spotflow_status process(void* self, const spotflow_input*, const spotflow_packet* packet, const spotflow_emitter*) {
    auto& n = *static_cast<Node*>(self);
    return guarded(n.host, "summarising tracks", [&] {
        if (packet->kind != SPOTFLOW_DATA_TABLE)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "tracks.summary received a tensor; it reads tracks tables");
        try {
            n.summary.add(spotflow::TableView(packet->schema, packet->array));
        } catch (const std::invalid_argument& e) {
            throw PluginError(SPOTFLOW_ERR_FORMAT, e.what());
        }
        if (n.info.pixel_size_nm <= 0) n.info.pixel_size_nm = packet->info.pixel_size_nm;
        if (n.info.frame_interval_s <= 0) n.info.frame_interval_s = packet->info.frame_interval_s;
        return SPOTFLOW_OK;
    });
}

spotflow_status finish(void* self, const spotflow_emitter* out) {
    auto& n = *static_cast<Node*>(self);
    return guarded(n.host, "summarising tracks", [&] {
        const double dt = n.frame_interval_s > 0 ? n.frame_interval_s : n.info.frame_interval_s;
        spotflow::TableBuilder b;
        const auto c_id = b.add_column("track_id", ColumnType::Int64);
        const auto c_len = b.add_column("length", ColumnType::Int64);
        const auto c_start = b.add_column("start_frame", ColumnType::Int64);
        const auto c_end = b.add_column("end_frame", ColumnType::Int64);
        const auto c_dur = b.add_column("duration", ColumnType::Int64);
        const auto c_mx = b.add_column("mean_x", ColumnType::Float64);
        const auto c_my = b.add_column("mean_y", ColumnType::Float64);
        const size_t c_dur_s = dt > 0 ? b.add_column("duration_s", ColumnType::Float64) : 0;
        for (const TrackStats& t : n.summary.tracks()) {
            b.append_int(c_id, t.track_id);
            b.append_int(c_len, t.length);
            b.append_int(c_start, t.start_frame);
            b.append_int(c_end, t.end_frame);
            b.append_int(c_dur, t.duration);
            b.append_double(c_mx, t.mean_x);
            b.append_double(c_my, t.mean_y);
            if (dt > 0) b.append_double(c_dur_s, static_cast<double>(t.duration) * dt);
        }
        if (!n.figure_path.empty()) {
            try {
                draw_track_statistics(n.figure_path, n.summary.tracks(), dt);
            } catch (const std::exception& e) {
                throw PluginError(SPOTFLOW_ERR_IO, e.what());
            }
        }
        if (const int64_t empty = n.summary.empty_tracks())
            n.host->log(n.host, SPOTFLOW_LOG_WARNING,
                        fmt::format("{} tracks have no row with a position and are left out", empty).c_str());
        spotflow_packet packet{};
        packet.kind = SPOTFLOW_DATA_TABLE;
        packet.info = n.info;
        packet.info.frame_interval_s = dt;
        b.finish(&packet.schema, &packet.array);
        return out->emit(out, 0, &packet);
    });
}

void destroy(void* self) { delete static_cast<Node*>(self); }

const spotflow_node_vtable kVtable = {create, nullptr, process, finish, destroy};

const spotflow_port_desc kInputs[] = {{"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE,
                                       SPOTFLOW_PORT_WHOLE_STREAM, "frame, x, y, track_id"}};
const spotflow_port_desc kOutputs[] = {
    {"summary", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, 0,
     "track_id, length, start_frame, end_frame, duration, mean_x, mean_y (+ duration_s)"}};

const spotflow_plugin_desc kDescriptor = {
    "tracks.summary", "1.0.0", "One row per track: length, first and last frame, duration, mean position; optionally the track statistics figure",
    "filter",         kInputs, 1,
    1,                kOutputs, kSchema,
    &kVtable,         nullptr};

uint32_t plugin_count() { return 1; }
const spotflow_plugin_desc* plugin(uint32_t i) { return i == 0 ? &kDescriptor : nullptr; }

} // namespace
} // namespace tracks_summary

extern "C" SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {
    SPOTFLOW_ABI_VERSION_INIT, tracks_summary::plugin_count, tracks_summary::plugin};
