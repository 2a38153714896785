// read.csv, read.tracks_csv, read.detections_csv: one CSV reader behind three
// descriptors, because a port's type is static: the same file feeds a "table"
// input through read.csv, a "tracks" input through read.tracks_csv.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "csv_table.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/params.hpp"
#include "spotflow/plugin_error.hpp"
#include "schema.json.hpp"

namespace read_csv {
namespace {

using spotflow::ColumnType;
using spotflow::PluginError;
using spotflow_csv::CsvLayout;
using spotflow_csv::CsvRecords;
using spotflow_csv::RequiredColumn;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

struct Flavor {
    const char* table_type; // the output port's type
    std::vector<RequiredColumn> required;
};

// Frames and ids must be integers in every row; a position may be missing (a
// frame in which a track has no point).
const Flavor kFlavors[] = {
    {SPOTFLOW_TYPE_TABLE, {}},
    {SPOTFLOW_TYPE_TRACKS,
     {{"frame", ColumnType::Int64, false},
      {"x", ColumnType::Float64, true},
      {"y", ColumnType::Float64, true},
      {"track_id", ColumnType::Int64, false}}},
    {SPOTFLOW_TYPE_DETECTIONS,
     {{"frame", ColumnType::Int64, false}, {"x", ColumnType::Float64, true}, {"y", ColumnType::Float64, true}}},
};

struct Params {
    std::string path;
    char delimiter;
    int64_t batch_rows;
    std::optional<std::vector<std::string>> columns;
    double pixel_size_nm;
    double frame_interval_s;
};

Params parse_params(const char* json) {
    return spotflow::read_params(json, [](const nlohmann::json& j) -> Params {
        const std::string path = j.at("path").get<std::string>();
        const std::string d = j.value("delimiter", "auto");
        auto ends_with = [&](const char* ext) {
            const std::string e(ext);
            return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
        };
        const char delimiter = d != "auto" ? d[0] : ends_with(".tsv") || ends_with(".tab") || ends_with(".TSV") ? '\t' : ',';
        Params p{path, delimiter, j.at("batch_rows").get<int64_t>(), std::nullopt,
                 j.at("pixel_size_nm").get<double>(), j.at("frame_interval_s").get<double>()};
        auto columns = j.at("columns").get<std::vector<std::string>>();
        if (!columns.empty()) p.columns = std::move(columns);
        if (p.batch_rows < 1) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "batch_rows must be at least 1");
        return p;
    });
}

// One source of flavour F (kFlavors): scans the file at create, emits
// batch_rows rows a pull.
template <int F> class Reader {
public:
    static constexpr const char* kContext = "opening the CSV";

    Reader(const spotflow_host* host, const char* params_json)
        : host(host), params(parse_params(params_json)), records(params.path, params.delimiter),
          layout(spotflow_csv::scan_csv(records, kFlavors[F].required, params.columns, kFlavors[F].table_type)) {}

    std::string context() const { return "reading CSV '" + params.path + "'"; }

    spotflow_status pull(const spotflow_emitter* out) {
        // An empty table still sends one batch, so its columns reach the writers.
        if (emitted && rows_done >= layout.rows) return SPOTFLOW_DONE;
        spotflow_packet packet{};
        packet.kind = SPOTFLOW_DATA_TABLE;
        packet.info.total_frames = -1;
        packet.info.pixel_size_nm = params.pixel_size_nm;
        packet.info.frame_interval_s = params.frame_interval_s;
        rows_done += spotflow_csv::read_csv_batch(records, layout, params.batch_rows, &packet.schema, &packet.array);
        emitted = true;
        host->progress(host, rows_done, layout.rows);
        return out->emit(out, 0, &packet);
    }

private:
    const spotflow_host* host;
    Params params;
    CsvRecords records;
    CsvLayout layout;
    int64_t rows_done = 0;
    bool emitted = false;
};

const spotflow_node_vtable kVtables[] = {
    spotflow::node_vtable<Reader<0>>(),
    spotflow::node_vtable<Reader<1>>(),
    spotflow::node_vtable<Reader<2>>(),
};

const spotflow_port_desc kOutputs[] = {
    {"table", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, 0, "The CSV's rows, column types inferred"},
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, 0, "frame, x, y, track_id and the file's other columns"},
    {"detections", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE, 0, "frame, x, y and the file's other columns"},
};

const spotflow_plugin_desc kTable = {"read.csv", "1.0.0", "Reads a CSV file as a table, inferring each column's type",
                                     "source", nullptr, 0, 1, &kOutputs[0], kSchema, &kVtables[0], nullptr};
const spotflow_plugin_desc kTracks = {"read.tracks_csv", "1.0.0",
                                      "Reads a CSV of tracks (frame, x, y, track_id, ...) in pixels", "source", nullptr,
                                      0, 1, &kOutputs[1], kSchema, &kVtables[1], nullptr};
const spotflow_plugin_desc kDetections = {"read.detections_csv", "1.0.0",
                                          "Reads a CSV of detections (frame, x, y, ...) in pixels", "source", nullptr,
                                          0, 1, &kOutputs[2], kSchema, &kVtables[2], nullptr};

} // namespace
} // namespace read_csv

SPOTFLOW_EXPORT_PLUGINS(read_csv::kTable, read_csv::kTracks, read_csv::kDetections);
