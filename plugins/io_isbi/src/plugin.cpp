// read.isbi_xml and write.isbi_xml: tracks in the particle tracking
// challenge's XML, so that its scorer (and TrackMate, Icy) read spotflow's
// tracks and spotflow scores a user's own copy of the challenge data.
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "isbi_format.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow/table.hpp"
#include "track_points.hpp"
#include "read.isbi_xml.json.hpp"
#include "write.isbi_xml.json.hpp"

namespace io_isbi {
namespace {

using spotflow::ColumnType;
using spotflow::guarded;
using spotflow::PluginError;

constexpr const char* kReadSchema = spotflow_schemas::read_isbi_xml; // read.isbi_xml.json

constexpr const char* kWriteSchema = spotflow_schemas::write_isbi_xml; // write.isbi_xml.json

nlohmann::json parse_json(const char* json) {
    try {
        return nlohmann::json::parse(json);
    } catch (const nlohmann::json::exception& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("invalid params: ") + e.what());
    }
}

template <class T> T param(const nlohmann::json& j, const char* name) {
    try {
        return j.at(name).get<T>();
    } catch (const nlohmann::json::exception& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("invalid params: ") + e.what());
    }
}

// ---- read.isbi_xml ---------------------------------------------------------

struct Reader {
    const spotflow_host* host;
    std::string path;
    int64_t batch_rows;
    double pixel_size_nm, frame_interval_s;
    IsbiTracks tracks;
    size_t particle = 0, detection = 0; // the next point to emit
    int64_t points = 0, emitted_points = 0;
    bool emitted = false;
};

std::string nan_report(const IsbiTracks& t) {
    std::string s;
    auto add = [&](const std::string& part) { s += (s.empty() ? "" : "; ") + part; };
    if (t.trimmed) add(fmt::format("trimmed {} NaN detections at particle ends", t.trimmed));
    if (!t.dropped.empty()) {
        std::string ids;
        for (size_t i = 0; i < t.dropped.size() && i < 5; ++i) ids += (i ? ", " : "") + std::to_string(t.dropped[i]);
        if (t.dropped.size() > 5) ids += ", ...";
        add(fmt::format("dropped {} particles with NaN between valid detections (particle {})", t.dropped.size(), ids));
    }
    if (t.empty) add(fmt::format("skipped {} particles without a valid detection", t.empty));
    return s;
}

Reader make_reader(const spotflow_host* host, const char* params_json) {
    const auto j = parse_json(params_json);
    Reader r{host, param<std::string>(j, "path"), param<int64_t>(j, "batch_rows"), param<double>(j, "pixel_size_nm"),
             param<double>(j, "frame_interval_s"), {}};
    r.tracks = read_isbi(r.path);
    for (const auto& p : r.tracks.particles) r.points += static_cast<int64_t>(p.detections.size());
    const std::string report = nan_report(r.tracks);
    if (!report.empty()) host->log(host, SPOTFLOW_LOG_WARNING, ("ISBI XML '" + r.path + "': " + report).c_str());
    return r;
}

spotflow_status pull(Reader& r, const spotflow_emitter* out) {
    if (r.emitted && r.emitted_points >= r.points) return SPOTFLOW_DONE;
    spotflow::TableBuilder b;
    const auto f = b.add_column("frame", ColumnType::Int64);
    const auto x = b.add_column("x", ColumnType::Float64);
    const auto y = b.add_column("y", ColumnType::Float64);
    const auto z = b.add_column("z", ColumnType::Float64);
    const auto id = b.add_column("track_id", ColumnType::Int64);
    int64_t n = 0;
    while (n < r.batch_rows && r.particle < r.tracks.particles.size()) {
        const Particle& p = r.tracks.particles[r.particle];
        if (r.detection == p.detections.size()) {
            ++r.particle;
            r.detection = 0;
            continue;
        }
        const Detection& d = p.detections[r.detection++];
        b.append_int(f, d.t);
        b.append_double(x, d.x);
        b.append_double(y, d.y);
        b.append_double(z, d.z);
        b.append_int(id, p.index);
        ++n;
    }
    spotflow_packet packet{};
    packet.kind = SPOTFLOW_DATA_TABLE;
    packet.info.total_frames = -1;
    packet.info.pixel_size_nm = r.pixel_size_nm;
    packet.info.frame_interval_s = r.frame_interval_s;
    b.finish(&packet.schema, &packet.array);
    r.emitted_points += n;
    r.emitted = true;
    r.host->progress(r.host, r.emitted_points, r.points);
    return out->emit(out, 0, &packet);
}

constexpr char kReading[] = "reading the ISBI XML";

// ---- write.isbi_xml --------------------------------------------------------

struct Writer {
    const spotflow_host* host;
    std::string file, path;
    ContestAttributes attributes;
    TrackPoints points;
};

Writer make_writer(const spotflow_host* host, const char* params_json) {
    const auto j = parse_json(params_json);
    const std::string file = param<std::string>(j, "file");
    return Writer{host, file, spotflow::output_path(host, file),
                  {param<std::string>(j, "snr"), param<std::string>(j, "density"), param<std::string>(j, "scenario")},
                  {}};
}

spotflow_status process(Writer& w, const spotflow_input*, const spotflow_packet* packet, const spotflow_emitter*) {
    w.points.add(*packet);
    return SPOTFLOW_OK;
}

spotflow_status finish_writer(Writer& w, const spotflow_emitter*) {
    write_isbi(w.path, w.points.sorted(), w.attributes);
    if (w.points.skipped())
        w.host->log(w.host, SPOTFLOW_LOG_INFO,
                    fmt::format("{} rows without a position (gaps) are not written", w.points.skipped()).c_str());
    return SPOTFLOW_OK;
}

constexpr char kWriting[] = "writing the ISBI XML";

const spotflow_node_vtable kReadVtable =
    spotflow::node_vtable<spotflow::FunctionSource<Reader, make_reader, pull, kReading>>();
const spotflow_node_vtable kWriteVtable =
    spotflow::node_vtable<spotflow::FunctionNode<Writer, make_writer, process, finish_writer, kWriting>>();

const spotflow_port_desc kReadOutputs[] = {
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, 0,
     "frame, x, y, z, track_id (the particle's index in the file), in pixels"}};
const spotflow_port_desc kWriteInputs[] = {
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM,
     "frame, x, y, track_id (z optional); rows without a position are skipped"}};

const spotflow_plugin_desc kRead = {"read.isbi_xml", "1.0.0",
                                    "Reads tracks in the particle tracking challenge's XML format", "source", nullptr, 0,
                                    1, kReadOutputs, kReadSchema, &kReadVtable, nullptr};
const spotflow_plugin_desc kWrite = {"write.isbi_xml", "1.0.0",
                                     "Writes tracks in the particle tracking challenge's XML format", "writer",
                                     kWriteInputs, 1, 0, nullptr, kWriteSchema, &kWriteVtable, nullptr};

} // namespace
} // namespace io_isbi

SPOTFLOW_EXPORT_PLUGINS(io_isbi::kRead, io_isbi::kWrite);
