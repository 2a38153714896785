// A CSV file as a stream of Arrow batches with one schema: a first pass over
// the file checks every row and infers each column's type, later passes read
// batches. Memory follows the batch size, not the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "spotflow_csv/csv_records.hpp"
#include "spotflow/table.hpp"

namespace spotflow_csv {

// A column a table type needs, with its fixed type: values that do not parse
// as that type are errors, not a reason to infer another type.
struct RequiredColumn {
    std::string name;
    spotflow::ColumnType type;
    bool nullable; // may a row leave it empty?
};

struct OutputColumn {
    std::string name;
    size_t field;              // index in the header
    spotflow::ColumnType type;
    bool required;
    bool nullable;
};

struct CsvLayout {
    std::vector<OutputColumn> columns;
    size_t header_fields = 0;
    int64_t rows = 0;
};

// Reads the header and every row once. `keep` (when set) selects and orders
// the output columns; otherwise they follow the file. Leaves `records` just
// after the header. Throws PluginError naming file, line and column.
CsvLayout scan_csv(CsvRecords& records, const std::vector<RequiredColumn>& required,
                   const std::optional<std::vector<std::string>>& keep, const std::string& table_type);

// Positions `records` on the first data row.
void skip_header(CsvRecords& records);

// Reads up to max_rows rows into one batch; returns how many were read.
int64_t read_csv_batch(CsvRecords& records, const CsvLayout& layout, int64_t max_rows, ArrowSchema* schema,
                       ArrowArray* array);

} // namespace spotflow_csv
