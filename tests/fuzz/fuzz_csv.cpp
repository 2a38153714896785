// Bytes -> the CSV readers: read.tracks_csv / read.detections_csv (scan, then
// batches) and read.thunderstorm (column mapping, row count, batches).
#include <cstddef>
#include <cstdint>
#include <optional>

#include "csv_table.hpp"
#include "fuzz_input.hpp"
#include "spotflow/plugin.h"
#include "spotflow/plugin_error.hpp"
#include "spotflow/table.hpp"
#include "thunderstorm_columns.hpp"
#include "thunderstorm_rows.hpp"

namespace {

void drain(ArrowSchema& s, ArrowArray& a) { spotflow::release_table(&s, &a); }

void read_generic(const std::string& path, const std::vector<spotflow_csv::RequiredColumn>& required, const char* type) {
    spotflow_csv::CsvRecords records(path);
    const auto layout = spotflow_csv::scan_csv(records, required, std::nullopt, type);
    int64_t done = 0;
    while (done < layout.rows) {
        ArrowSchema s{};
        ArrowArray a{};
        const int64_t n = spotflow_csv::read_csv_batch(records, layout, 7, &s, &a);
        drain(s, a);
        if (n == 0) break;
        done += n;
    }
}

void read_storm(const std::string& path) {
    spotflow_csv::CsvRecords records(path);
    std::vector<std::string> header;
    if (!records.next(header)) return;
    const auto map = read_thunderstorm::map_columns(header, 100.0, path);
    const int64_t rows = read_thunderstorm::count_rows(records, map, header.size());
    records.rewind();
    records.next(header);
    int64_t done = 0;
    while (done < rows) {
        ArrowSchema s{};
        ArrowArray a{};
        const int64_t n = read_thunderstorm::read_batch(records, map, header.size(), 7, &s, &a);
        drain(s, a);
        if (n == 0) break;
        done += n;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static fuzz::MemFile file;
    const std::string path = file.write(data, size);
    using spotflow::ColumnType;
    const std::vector<spotflow_csv::RequiredColumn> tracks = {{"frame", ColumnType::Int64, false},
                                                              {"x", ColumnType::Float64, true},
                                                              {"y", ColumnType::Float64, true},
                                                              {"track_id", ColumnType::Int64, false}};
    const std::vector<spotflow_csv::RequiredColumn> detections = {
        {"frame", ColumnType::Int64, false}, {"x", ColumnType::Float64, true}, {"y", ColumnType::Float64, true}};
    for (int k = 0; k < 4; ++k) {
        try {
            if (k == 0) read_generic(path, {}, SPOTFLOW_TYPE_TABLE);
            if (k == 1) read_generic(path, tracks, SPOTFLOW_TYPE_TRACKS);
            if (k == 2) read_generic(path, detections, SPOTFLOW_TYPE_DETECTIONS);
            if (k == 3) read_storm(path);
        } catch (const spotflow::PluginError&) {
        }
    }
    return 0;
}
