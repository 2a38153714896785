// read.thunderstorm: a ThunderSTORM localisation table (CSV export) as
// spotflow detections in pixels, frames from 0.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spotflow_csv/csv_records.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/params.hpp"
#include "spotflow/plugin_error.hpp"
#include "thunderstorm_columns.hpp"
#include "thunderstorm_rows.hpp"
#include "schema.json.hpp"

namespace read_thunderstorm {
namespace {

using spotflow::guarded;
using spotflow::PluginError;
using spotflow_csv::CsvRecords;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

struct Params {
    std::string path;
    double pixel_size_nm;
    double frame_interval_s;
    int64_t batch_rows;
};

Params parse_params(const char* json) {
    return spotflow::read_params(json, [](const nlohmann::json& j) -> Params {
        Params p{j.at("path").get<std::string>(), j.at("pixel_size_nm").get<double>(),
                 j.at("frame_interval_s").get<double>(), j.at("batch_rows").get<int64_t>()};
        if (!(p.pixel_size_nm > 0)) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "pixel_size_nm must be above 0");
        if (p.batch_rows < 1) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "batch_rows must be at least 1");
        return p;
    });
}

// One source: reads the header and counts the rows at create, emits
// batch_rows rows a pull.
class Reader {
public:
    static constexpr const char* kContext = "read.thunderstorm";

    Reader(const spotflow_host* host, const char* params_json)
        : host(host), params(parse_params(params_json)), records(params.path) {
        std::vector<std::string> header;
        if (!records.next(header))
            throw PluginError(SPOTFLOW_ERR_FORMAT, "ThunderSTORM CSV '" + params.path + "' is empty: a header line is required");
        map = map_columns(header, params.pixel_size_nm, params.path);
        if (!map.ignored.empty()) {
            std::string list;
            for (const auto& l : map.ignored) list += (list.empty() ? "'" : ", '") + l + "'";
            host->log(host, SPOTFLOW_LOG_INFO, ("ignoring ThunderSTORM columns " + list).c_str());
        }
        header_fields = header.size();
        rows = count_rows(records, map, header.size());
    }

    std::string context() const { return "reading ThunderSTORM CSV '" + params.path + "'"; }

    spotflow_status pull(const spotflow_emitter* out) {
        if (emitted && rows_done >= rows) return SPOTFLOW_DONE;
        spotflow_packet packet{};
        packet.kind = SPOTFLOW_DATA_TABLE;
        packet.info.total_frames = -1;
        packet.info.pixel_size_nm = params.pixel_size_nm;
        packet.info.frame_interval_s = params.frame_interval_s;
        rows_done += read_batch(records, map, header_fields, params.batch_rows, &packet.schema, &packet.array);
        emitted = true;
        host->progress(host, rows_done, rows);
        return out->emit(out, 0, &packet);
    }

private:
    const spotflow_host* host;
    Params params;
    CsvRecords records;
    ColumnMap map;
    size_t header_fields = 0;
    int64_t rows = 0;
    int64_t rows_done = 0;
    bool emitted = false;
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Reader>();

const spotflow_port_desc kOutputs[] = {
    {"detections", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE, 0,
     "frame (from 0), x, y in px (pixel-centre origin), photons, background, sigma, uncertainty, ..."}};

const spotflow_plugin_desc kDescriptor = {
    "read.thunderstorm", "1.0.0", "Reads ThunderSTORM localisations (CSV) as detections in pixels", "source",
    nullptr,             0,       1,
    kOutputs,            kSchema, &kVtable,
    nullptr};

} // namespace
} // namespace read_thunderstorm

SPOTFLOW_EXPORT_PLUGINS(read_thunderstorm::kDescriptor);
