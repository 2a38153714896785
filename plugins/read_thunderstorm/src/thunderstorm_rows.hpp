// ThunderSTORM rows converted to spotflow detections, checked in full at
// create (count_rows) and then read batch by batch.
#pragma once

#include <cstdint>

#include "spotflow_csv/csv_records.hpp"
#include "thunderstorm_columns.hpp"

namespace read_thunderstorm {

// Checks every row after the header and counts them; leaves `records` on
// the first row. Throws PluginError naming file, line and column.
int64_t count_rows(spotflow_csv::CsvRecords& records, const ColumnMap& map, size_t header_fields);

// Converts up to max_rows rows into one detections batch; returns how many.
int64_t read_batch(spotflow_csv::CsvRecords& records, const ColumnMap& map, size_t header_fields, int64_t max_rows,
                   ArrowSchema* schema, ArrowArray* array);

} // namespace read_thunderstorm
