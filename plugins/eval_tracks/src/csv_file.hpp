// A small CSV writer for this plugin's reports: fields as spotflow's tables
// print them (float64 in shortest round-trip form, NaN as an empty field).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace eval_tracks {

class CsvFile {
public:
    explicit CsvFile(std::string path) : path_(std::move(path)) {}

    CsvFile& field(std::string_view text);
    CsvFile& field(int64_t v);
    CsvFile& field(double v); // NaN: empty
    CsvFile& null();
    void end_row();

    // Writes the file; throws PluginError(SPOTFLOW_ERR_IO) naming it.
    void save() const;

private:
    void separate();
    std::string path_;
    std::string text_;
    bool row_open_ = false;
};

} // namespace eval_tracks
