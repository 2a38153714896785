#include "thunderstorm_rows.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "spotflow_csv/csv_values.hpp"
#include "spotflow/plugin_error.hpp"

namespace read_thunderstorm {
namespace {

using spotflow::ColumnType;
using spotflow::PluginError;
using spotflow_csv::CsvRecords;

std::string where(const CsvRecords& r) {
    return "ThunderSTORM CSV '" + r.path() + "' line " + std::to_string(r.line());
}

bool next_row(CsvRecords& r, std::vector<std::string>& fields, size_t header_fields) {
    while (r.next(fields)) {
        if (header_fields > 1 && fields.size() == 1 && fields[0].empty()) continue; // a blank line
        if (fields.size() != header_fields)
            throw PluginError(SPOTFLOW_ERR_FORMAT, where(r) + " has " + std::to_string(fields.size()) +
                                                       " fields, but the header has " + std::to_string(header_fields));
        return true;
    }
    return false;
}

// One converted value; false for an empty optional field. ThunderSTORM
// prints every value as a double ("3.0"), frames and ids included.
bool convert(const CsvRecords& r, const std::vector<std::string>& fields, const Mapped& m, double& out) {
    const std::string& text = fields[m.field];
    const bool needed = m.role == Role::Frame || m.role == Role::X || m.role == Role::Y;
    if (spotflow_csv::trim(text).empty()) {
        if (needed) throw PluginError(SPOTFLOW_ERR_FORMAT, where(r) + ": column '" + m.label + "' is empty");
        return false;
    }
    double v = 0;
    if (!spotflow_csv::parse_double(text, v))
        throw PluginError(SPOTFLOW_ERR_FORMAT,
                          where(r) + ": column '" + m.label + "' holds '" + text + "', which is not a number");
    if (m.type == ColumnType::Int64 && !(std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15))
        throw PluginError(SPOTFLOW_ERR_FORMAT,
                          where(r) + ": column '" + m.label + "' holds '" + text + "', which is not a whole number");
    if (m.role == Role::Frame && v < 1)
        throw PluginError(SPOTFLOW_ERR_FORMAT, where(r) + ": frame " + text + " is below 1 (ThunderSTORM counts frames from 1)");
    if (needed && !std::isfinite(v))
        throw PluginError(SPOTFLOW_ERR_FORMAT, where(r) + ": column '" + m.label + "' holds '" + text + "'");
    out = v * m.scale + m.shift;
    return true;
}

} // namespace

int64_t count_rows(CsvRecords& records, const ColumnMap& map, size_t header_fields) {
    std::vector<std::string> fields;
    int64_t rows = 0;
    double v;
    while (next_row(records, fields, header_fields)) {
        for (const Mapped& m : map.columns) convert(records, fields, m, v);
        ++rows;
    }
    records.rewind();
    records.next(fields); // the header
    return rows;
}

int64_t read_batch(CsvRecords& records, const ColumnMap& map, size_t header_fields, int64_t max_rows,
                   ArrowSchema* schema, ArrowArray* array) {
    spotflow::TableBuilder b;
    for (const Mapped& m : map.columns) b.add_column(m.output, m.type);
    std::vector<std::string> fields;
    int64_t n = 0;
    while (n < max_rows && next_row(records, fields, header_fields)) {
        for (size_t c = 0; c < map.columns.size(); ++c) {
            const Mapped& m = map.columns[c];
            double v = 0;
            if (!convert(records, fields, m, v)) b.append_null(c);
            else if (m.type == ColumnType::Int64) b.append_int(c, static_cast<int64_t>(v));
            else b.append_double(c, v);
        }
        ++n;
    }
    b.finish(schema, array);
    return n;
}

} // namespace read_thunderstorm
