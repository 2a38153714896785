// read.thunderstorm: a ThunderSTORM localisation table (CSV export) as
// spotflow detections in pixels, frames from 0.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spotflow_csv/csv_records.hpp"
#include "spotflow/plugin.h"
#include "spotflow/plugin_error.hpp"
#include "thunderstorm_columns.hpp"
#include "thunderstorm_rows.hpp"

namespace read_thunderstorm {
namespace {

using spotflow::guarded;
using spotflow::PluginError;
using spotflow_csv::CsvRecords;

constexpr const char* kSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "required": ["path", "pixel_size_nm"],
  "properties": {
    "path": {"type": "string", "minLength": 1,
             "description": "ThunderSTORM results exported as CSV (header of labels such as \"x [nm]\")."},
    "pixel_size_nm": {"type": "number", "exclusiveMinimum": 0,
                      "description": "The camera pixel size in nm that ThunderSTORM used (Camera setup), to convert nm to pixels."},
    "frame_interval_s": {"type": "number", "minimum": 0, "default": 0,
                         "description": "Time between frames in s recorded in the stream info; 0 = unknown."},
    "batch_rows": {"type": "integer", "minimum": 1, "default": 65536,
                   "description": "Detections per emitted batch; memory use follows it."}
  }
})";

struct Params {
    std::string path;
    double pixel_size_nm;
    double frame_interval_s;
    int64_t batch_rows;
};

Params parse_params(const char* json) {
    try {
        const auto j = nlohmann::json::parse(json);
        Params p{j.at("path").get<std::string>(), j.at("pixel_size_nm").get<double>(),
                 j.at("frame_interval_s").get<double>(), j.at("batch_rows").get<int64_t>()};
        if (!(p.pixel_size_nm > 0)) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "pixel_size_nm must be above 0");
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
    ColumnMap map;
    size_t header_fields;
    int64_t rows;
    int64_t rows_done = 0;
    bool emitted = false;
};

void* create(const spotflow_host* host, const char* params_json) {
    Reader* reader = nullptr;
    guarded(host, "opening the ThunderSTORM CSV", [&] {
        Params p = parse_params(params_json);
        CsvRecords records(p.path);
        std::vector<std::string> header;
        if (!records.next(header))
            throw PluginError(SPOTFLOW_ERR_FORMAT, "ThunderSTORM CSV '" + p.path + "' is empty: a header line is required");
        ColumnMap map = map_columns(header, p.pixel_size_nm, p.path);
        if (!map.ignored.empty()) {
            std::string list;
            for (const auto& l : map.ignored) list += (list.empty() ? "'" : ", '") + l + "'";
            host->log(host, SPOTFLOW_LOG_INFO, ("ignoring ThunderSTORM columns " + list).c_str());
        }
        const int64_t rows = count_rows(records, map, header.size());
        reader = new Reader{host, std::move(p), std::move(records), std::move(map), header.size(), rows};
        return SPOTFLOW_OK;
    });
    return reader;
}

spotflow_status pull(void* self, const spotflow_emitter* out) {
    auto& r = *static_cast<Reader*>(self);
    return guarded(r.host, "reading ThunderSTORM CSV '" + r.params.path + "'", [&]() -> spotflow_status {
        if (r.emitted && r.rows_done >= r.rows) return SPOTFLOW_DONE;
        spotflow_packet packet{};
        packet.kind = SPOTFLOW_DATA_TABLE;
        packet.info.total_frames = -1;
        packet.info.pixel_size_nm = r.params.pixel_size_nm;
        packet.info.frame_interval_s = r.params.frame_interval_s;
        r.rows_done +=
            read_batch(r.records, r.map, r.header_fields, r.params.batch_rows, &packet.schema, &packet.array);
        r.emitted = true;
        r.host->progress(r.host, r.rows_done, r.rows);
        return out->emit(out, 0, &packet);
    });
}

spotflow_status finish(void*, const spotflow_emitter*) { return SPOTFLOW_OK; }

void destroy(void* self) { delete static_cast<Reader*>(self); }

const spotflow_node_vtable kVtable = {create, pull, nullptr, finish, destroy};

const spotflow_port_desc kOutputs[] = {
    {"detections", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE, 0,
     "frame (from 0), x, y in px (pixel-centre origin), photons, background, sigma, uncertainty, ..."}};

const spotflow_plugin_desc kDescriptor = {
    "read.thunderstorm", "1.0.0", "Reads ThunderSTORM localisations (CSV) as detections in pixels", "source",
    nullptr,             0,       1,
    kOutputs,            kSchema, &kVtable,
    nullptr};

uint32_t plugin_count() { return 1; }
const spotflow_plugin_desc* plugin(uint32_t i) { return i == 0 ? &kDescriptor : nullptr; }

} // namespace
} // namespace read_thunderstorm

extern "C" SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {
    SPOTFLOW_ABI_VERSION_INIT, read_thunderstorm::plugin_count, read_thunderstorm::plugin};
