#include "csv_table.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "spotflow_csv/csv_values.hpp"
#include "spotflow/plugin.h"
#include "spotflow/plugin_error.hpp"

namespace spotflow_csv {
namespace {

using spotflow::ColumnType;
using spotflow::PluginError;

std::string where(const CsvRecords& r) { return "CSV '" + r.path() + "' line " + std::to_string(r.line()); }

// A line with nothing on it is a record of one empty field; in a file of
// several columns it is a stray blank line, not a row.
bool is_blank(const std::vector<std::string>& fields, size_t header_fields) {
    return header_fields > 1 && fields.size() == 1 && fields[0].empty();
}

bool next_row(CsvRecords& r, std::vector<std::string>& fields, size_t header_fields) {
    while (r.next(fields))
        if (!is_blank(fields, header_fields)) return true;
    return false;
}

std::string join(const std::vector<std::string>& names) {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return s;
}

const char* type_word(ColumnType t) { return t == ColumnType::Int64 ? "an integer" : "a number"; }

bool parses_as(ColumnType t, const std::string& text) {
    int64_t i;
    double d;
    return t == ColumnType::Int64 ? parse_int64(text, i) : t == ColumnType::Float64 ? parse_double(text, d) : true;
}

} // namespace

// A value of the right type that no row of its table type can hold: a
// negative frame (frames count from 0), a detection at NaN or infinity (a
// missing position is an empty field; tracks may carry NaN where a
// computation had no result).
std::string bad_value(const std::string& column, const std::string& text, const std::string& table_type) {
    if (column == "frame") {
        int64_t f = 0;
        if (parse_int64(text, f) && f < 0) return "frames count from 0";
    }
    if ((column == "x" || column == "y") && table_type == SPOTFLOW_TYPE_DETECTIONS) {
        double v = 0;
        if (parse_double(text, v) && !std::isfinite(v)) return "a detection needs a finite position";
    }
    return "";
}

CsvLayout scan_csv(CsvRecords& records, const std::vector<RequiredColumn>& required,
                   const std::optional<std::vector<std::string>>& keep, const std::string& table_type) {
    std::vector<std::string> header;
    if (!records.next(header))
        throw PluginError(SPOTFLOW_ERR_FORMAT, "CSV '" + records.path() + "' is empty: a header line is required");
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < header.size(); ++i) {
        if (header[i].empty())
            throw PluginError(SPOTFLOW_ERR_FORMAT, "CSV '" + records.path() + "': header field " +
                                                       std::to_string(i + 1) + " is empty; every column needs a name");
        if (!index.emplace(header[i], i).second)
            throw PluginError(SPOTFLOW_ERR_FORMAT,
                              "CSV '" + records.path() + "': column '" + header[i] + "' appears twice in the header");
    }

    std::vector<std::string> required_names;
    for (const auto& r : required) required_names.push_back(r.name);
    for (const auto& r : required) {
        if (!index.count(r.name))
            throw PluginError(SPOTFLOW_ERR_FORMAT, "CSV '" + records.path() + "' lacks column '" + r.name + "' (a " +
                                                       table_type + " table needs " + join(required_names) + ")");
        if (keep && std::find(keep->begin(), keep->end(), r.name) == keep->end())
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param columns must keep '" + r.name + "' (a " +
                                                                 table_type + " table needs " +
                                                                 join(required_names) + ")");
    }

    CsvLayout layout;
    layout.header_fields = header.size();
    for (const std::string& name : keep ? *keep : header) {
        const auto it = index.find(name);
        if (it == index.end())
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param columns names '" + name + "', which CSV '" +
                                                                 records.path() + "' lacks (it has " + join(header) +
                                                                 ")");
        const auto req = std::find_if(required.begin(), required.end(), [&](const auto& r) { return r.name == name; });
        if (req != required.end()) layout.columns.push_back({name, it->second, req->type, true, req->nullable});
        else layout.columns.push_back({name, it->second, ColumnType::Int64, false, true});
    }

    // Inferred columns start as int64 and widen to float64, then utf8, at the
    // first value that does not fit; a column with no value at all is float64.
    std::vector<bool> seen(layout.columns.size(), false);
    std::vector<std::string> fields;
    while (next_row(records, fields, layout.header_fields)) {
        if (fields.size() != layout.header_fields)
            throw PluginError(SPOTFLOW_ERR_FORMAT, where(records) + " has " + std::to_string(fields.size()) +
                                                       " fields, but the header has " +
                                                       std::to_string(layout.header_fields));
        for (size_t c = 0; c < layout.columns.size(); ++c) {
            OutputColumn& col = layout.columns[c];
            const std::string& text = fields[col.field];
            if (trim(text).empty()) {
                if (!col.nullable)
                    throw PluginError(SPOTFLOW_ERR_FORMAT,
                                      where(records) + ": column '" + col.name + "' is empty; it needs a value");
                continue;
            }
            if (col.required) {
                if (!parses_as(col.type, text))
                    throw PluginError(SPOTFLOW_ERR_FORMAT, where(records) + ": column '" + col.name + "' holds '" +
                                                               text + "', which is not " + type_word(col.type));
                if (const std::string why = bad_value(col.name, text, table_type); !why.empty())
                    throw PluginError(SPOTFLOW_ERR_FORMAT, where(records) + ": column '" + col.name + "' holds '" +
                                                               std::string(trim(text)) + "'; " + why);
                continue;
            }
            seen[c] = true;
            if (col.type == ColumnType::Int64 && !parses_as(ColumnType::Int64, text)) col.type = ColumnType::Float64;
            if (col.type == ColumnType::Float64 && !parses_as(ColumnType::Float64, text)) col.type = ColumnType::Utf8;
        }
        ++layout.rows;
    }
    for (size_t c = 0; c < layout.columns.size(); ++c)
        if (!layout.columns[c].required && !seen[c]) layout.columns[c].type = ColumnType::Float64;

    skip_header(records);
    return layout;
}

void skip_header(CsvRecords& records) {
    std::vector<std::string> header;
    records.rewind();
    records.next(header);
}

int64_t read_csv_batch(CsvRecords& records, const CsvLayout& layout, int64_t max_rows, ArrowSchema* schema,
                       ArrowArray* array) {
    spotflow::TableBuilder b;
    for (const auto& col : layout.columns) b.add_column(col.name, col.type);
    b.reserve(static_cast<size_t>(std::min(max_rows, layout.rows)));
    std::vector<std::string> fields;
    int64_t n = 0;
    while (n < max_rows && next_row(records, fields, layout.header_fields)) {
        // The scan has checked every row; a mismatch now means the file changed under us.
        if (fields.size() != layout.header_fields)
            throw PluginError(SPOTFLOW_ERR_IO, where(records) + " changed while it was being read");
        for (size_t c = 0; c < layout.columns.size(); ++c) {
            const OutputColumn& col = layout.columns[c];
            const std::string& text = fields[col.field];
            if (trim(text).empty()) {
                b.append_null(c);
                continue;
            }
            if (col.type == ColumnType::Utf8) {
                b.append_string(c, text);
                continue;
            }
            int64_t i = 0;
            double d = 0;
            const bool ok = col.type == ColumnType::Int64 ? parse_int64(text, i) : parse_double(text, d);
            if (!ok) throw PluginError(SPOTFLOW_ERR_IO, where(records) + " changed while it was being read");
            if (col.type == ColumnType::Int64) b.append_int(c, i);
            else b.append_double(c, d);
        }
        ++n;
    }
    b.finish(schema, array);
    return n;
}

} // namespace spotflow_csv
