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
#include "spotflow/plugin.h"
#include "spotflow/plugin_error.hpp"

namespace read_csv {
namespace {

using spotflow::ColumnType;
using spotflow::guarded;
using spotflow::PluginError;
using spotflow_csv::CsvLayout;
using spotflow_csv::CsvRecords;
using spotflow_csv::RequiredColumn;

constexpr const char* kSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "required": ["path"],
  "properties": {
    "path": {"type": "string", "minLength": 1,
             "description": "The CSV file: a header line of column names, then one row per line (RFC 4180 quoting)."},
    "batch_rows": {"type": "integer", "minimum": 1, "default": 65536,
                   "description": "Rows per emitted batch; memory use follows it."},
    "columns": {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": true, "default": [],
                "description": "Keep only these columns, in this order; every name must be in the header. Empty: all columns, in file order."},
    "pixel_size_nm": {"type": "number", "minimum": 0, "default": 0,
                      "description": "Pixel size in nm recorded in the stream info for downstream nodes; 0 = unknown."},
    "frame_interval_s": {"type": "number", "minimum": 0, "default": 0,
                         "description": "Time between frames in s recorded in the stream info; 0 = unknown."}
  }
})";

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
    int64_t batch_rows;
    std::optional<std::vector<std::string>> columns;
    double pixel_size_nm;
    double frame_interval_s;
};

Params parse_params(const char* json) {
    try {
        const auto j = nlohmann::json::parse(json);
        Params p{j.at("path").get<std::string>(), j.at("batch_rows").get<int64_t>(), std::nullopt,
                 j.at("pixel_size_nm").get<double>(), j.at("frame_interval_s").get<double>()};
        auto columns = j.at("columns").get<std::vector<std::string>>();
        if (!columns.empty()) p.columns = std::move(columns);
        if (p.batch_rows < 1) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "batch_rows must be at least 1");
        return p;
    } catch (const nlohmann::json::exception& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("invalid params: ") + e.what());
    }
}

struct Reader {
    const spotflow_host* host;
    Params params;
    CsvRecords records;
    CsvLayout layout;
    int64_t rows_done = 0;
    bool emitted = false;
};

template <int F> void* create(const spotflow_host* host, const char* params_json) {
    Reader* reader = nullptr;
    guarded(host, "opening the CSV", [&] {
        Params p = parse_params(params_json);
        CsvRecords records(p.path);
        CsvLayout layout = spotflow_csv::scan_csv(records, kFlavors[F].required, p.columns, kFlavors[F].table_type);
        reader = new Reader{host, std::move(p), std::move(records), std::move(layout)};
        return SPOTFLOW_OK;
    });
    return reader;
}

spotflow_status pull(void* self, const spotflow_emitter* out) {
    auto& r = *static_cast<Reader*>(self);
    return guarded(r.host, "reading CSV '" + r.params.path + "'", [&]() -> spotflow_status {
        // An empty table still sends one batch, so its columns reach the writers.
        if (r.emitted && r.rows_done >= r.layout.rows) return SPOTFLOW_DONE;
        spotflow_packet packet{};
        packet.kind = SPOTFLOW_DATA_TABLE;
        packet.info.total_frames = -1;
        packet.info.pixel_size_nm = r.params.pixel_size_nm;
        packet.info.frame_interval_s = r.params.frame_interval_s;
        r.rows_done += spotflow_csv::read_csv_batch(r.records, r.layout, r.params.batch_rows, &packet.schema,
                                                    &packet.array);
        r.emitted = true;
        r.host->progress(r.host, r.rows_done, r.layout.rows);
        return out->emit(out, 0, &packet);
    });
}

spotflow_status finish(void*, const spotflow_emitter*) { return SPOTFLOW_OK; }

void destroy(void* self) { delete static_cast<Reader*>(self); }

const spotflow_node_vtable kVtables[] = {
    {create<0>, pull, nullptr, finish, destroy},
    {create<1>, pull, nullptr, finish, destroy},
    {create<2>, pull, nullptr, finish, destroy},
};

const spotflow_port_desc kOutputs[] = {
    {"table", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, 0, "The CSV's rows, column types inferred"},
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, 0, "frame, x, y, track_id and the file's other columns"},
    {"detections", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE, 0, "frame, x, y and the file's other columns"},
};

const spotflow_plugin_desc kDescriptors[] = {
    {"read.csv", "1.0.0", "Reads a CSV file as a table, inferring each column's type", "source", nullptr, 0, 1,
     &kOutputs[0], kSchema, &kVtables[0], nullptr},
    {"read.tracks_csv", "1.0.0", "Reads a CSV of tracks (frame, x, y, track_id, ...) in pixels", "source", nullptr, 0,
     1, &kOutputs[1], kSchema, &kVtables[1], nullptr},
    {"read.detections_csv", "1.0.0", "Reads a CSV of detections (frame, x, y, ...) in pixels", "source", nullptr, 0,
     1, &kOutputs[2], kSchema, &kVtables[2], nullptr},
};

uint32_t plugin_count() { return 3; }
const spotflow_plugin_desc* plugin(uint32_t i) { return i < 3 ? &kDescriptors[i] : nullptr; }

} // namespace
} // namespace read_csv

extern "C" SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {SPOTFLOW_ABI_VERSION_INIT,
                                                                         read_csv::plugin_count, read_csv::plugin};
