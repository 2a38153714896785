// CSV writing, the one home for it (write.csv's tables, eval.tracks'
// reports, sim.dataset's truth and events files, eval.detections' metrics):
// RFC 4180 fields, quoted only when they hold a comma, a quote or a line
// break; integers as integers, floats in their shortest round-trip form,
// nulls and NaN as empty fields; lines end in "\n".
// Threading: free functions and CsvFile hold no shared state; one CsvFile
// belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "spotflow/table.hpp"

namespace spotflow_csv {

// A field as RFC 4180 wants it: quoted, with quotes doubled, when needed.
void append_field(std::string& out, std::string_view text);

// A table's header and rows; `columns` picks and orders the columns written
// (indices into the table). A float32 column prints as float32 (0.1f is
// "0.1", not 0.10000000149011612).
void append_header(std::string& out, const spotflow::TableView& table, const std::vector<int64_t>& columns);
void append_rows(std::string& out, const spotflow::TableView& table, const std::vector<int64_t>& columns);

// Writes `text` to `path` whole; throws spotflow::PluginError(SPOTFLOW_ERR_IO)
// naming the file and the system's reason.
void write_file(const std::string& path, std::string_view text);

// A CSV built field by field in memory, then saved whole (for reports).
class CsvFile {
public:
    explicit CsvFile(std::string path) : path_(std::move(path)) {}

    CsvFile& field(std::string_view text);
    CsvFile& field(int64_t v);
    CsvFile& field(double v); // NaN: empty
    CsvFile& null();
    void end_row();

    // Writes the file (write_file's errors).
    void save() const { write_file(path_, text_); }

private:
    void separate();
    std::string path_;
    std::string text_;
    bool row_open_ = false;
};

} // namespace spotflow_csv
