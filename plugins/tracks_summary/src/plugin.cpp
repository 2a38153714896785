// tracks.summary: one row per track (seed 000's track_summary.csv), emitted
// at finish once the whole tracks stream has been seen.
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "statistics_figure.hpp"
#include "summary.hpp"
#include "schema.json.hpp"

namespace tracks_summary {
namespace {

using spotflow::ColumnType;
using spotflow::PluginError;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

class Node {
public:
    static constexpr const char* kContext = "summarising tracks";

    Node(const spotflow_host* host, const char* params_json) : host_(host) {
        std::string figure;
        try {
            const auto j = nlohmann::json::parse(params_json);
            frame_interval_s_ = j.at("frame_interval_s").get<double>();
            figure = j.value("figure", "");
        } catch (const nlohmann::json::exception& e) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("invalid params: ") + e.what());
        }
        // Claimed now, so a clash with another node's file fails before the run.
        if (!figure.empty()) figure_path_ = spotflow::output_path(host, figure);
        info_.total_frames = -1;
    }

    spotflow_status process(const spotflow_input&, const spotflow_packet& packet, const spotflow_emitter*) {
        if (packet.kind != SPOTFLOW_DATA_TABLE)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "tracks.summary received a tensor; it reads tracks tables");
        try {
            summary_.add(spotflow::TableView(packet.schema, packet.array));
        } catch (const std::invalid_argument& e) {
            throw PluginError(SPOTFLOW_ERR_FORMAT, e.what());
        }
        if (info_.pixel_size_nm <= 0) info_.pixel_size_nm = packet.info.pixel_size_nm;
        if (info_.frame_interval_s <= 0) info_.frame_interval_s = packet.info.frame_interval_s;
        return SPOTFLOW_OK;
    }

    spotflow_status finish(const spotflow_emitter* out) {
        const double dt = frame_interval_s_ > 0 ? frame_interval_s_ : info_.frame_interval_s;
        spotflow::TableBuilder b;
        const auto c_id = b.add_column("track_id", ColumnType::Int64);
        const auto c_len = b.add_column("length", ColumnType::Int64);
        const auto c_start = b.add_column("start_frame", ColumnType::Int64);
        const auto c_end = b.add_column("end_frame", ColumnType::Int64);
        const auto c_dur = b.add_column("duration", ColumnType::Int64);
        const auto c_mx = b.add_column("mean_x", ColumnType::Float64);
        const auto c_my = b.add_column("mean_y", ColumnType::Float64);
        const size_t c_dur_s = dt > 0 ? b.add_column("duration_s", ColumnType::Float64) : 0;
        const std::vector<TrackStats> tracks = summary_.tracks();
        for (const TrackStats& t : tracks) {
            b.append_int(c_id, t.track_id);
            b.append_int(c_len, t.length);
            b.append_int(c_start, t.start_frame);
            b.append_int(c_end, t.end_frame);
            b.append_int(c_dur, t.duration);
            b.append_double(c_mx, t.mean_x);
            b.append_double(c_my, t.mean_y);
            if (dt > 0) b.append_double(c_dur_s, static_cast<double>(t.duration) * dt);
        }
        if (!figure_path_.empty()) {
            try {
                draw_track_statistics(figure_path_, tracks, dt);
            } catch (const std::exception& e) {
                throw PluginError(SPOTFLOW_ERR_IO, e.what());
            }
        }
        if (const int64_t empty = summary_.empty_tracks())
            host_->log(host_, SPOTFLOW_LOG_WARNING,
                       fmt::format("{} tracks have no row with a position and are left out", empty).c_str());
        spotflow_stream_info info = info_;
        info.frame_interval_s = dt;
        return spotflow::emit_table(out, 0, b, info);
    }

private:
    const spotflow_host* host_;
    double frame_interval_s_ = 0;
    std::string figure_path_;
    spotflow_stream_info info_{};
    Summary summary_;
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Node>();

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

} // namespace
} // namespace tracks_summary

SPOTFLOW_EXPORT_PLUGINS(tracks_summary::kDescriptor);
