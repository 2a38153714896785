#include "spotflow_csv/csv_writer.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>

#include <fmt/format.h>

#include "spotflow/plugin_error.hpp"

namespace spotflow_csv {
namespace {

enum class Kind { Integer, Float32, Float64, String };

Kind kind_of(char format) {
    switch (format) {
    case 'f': return Kind::Float32;
    case 'g': return Kind::Float64;
    case 'u':
    case 'U': return Kind::String;
    default: return Kind::Integer; // b c C s S i I l L: the rest TableView accepts
    }
}

void append_value(std::string& out, const spotflow::TableView& t, int64_t col, Kind kind, int64_t row) {
    if (t.is_null(col, row)) return;
    switch (kind) {
    case Kind::Integer: fmt::format_to(std::back_inserter(out), "{}", t.get_int(col, row)); return;
    case Kind::String: append_field(out, t.get_string(col, row)); return;
    case Kind::Float32:
    case Kind::Float64: {
        const double v = t.get_double(col, row);
        if (std::isnan(v)) return;
        if (kind == Kind::Float32) fmt::format_to(std::back_inserter(out), "{}", static_cast<float>(v));
        else fmt::format_to(std::back_inserter(out), "{}", v);
        return;
    }
    }
}

} // namespace

void append_field(std::string& out, std::string_view text) {
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
        out += text;
        return;
    }
    out += '"';
    for (const char ch : text) {
        if (ch == '"') out += '"';
        out += ch;
    }
    out += '"';
}

void append_header(std::string& out, const spotflow::TableView& t, const std::vector<int64_t>& columns) {
    for (size_t k = 0; k < columns.size(); ++k) {
        if (k) out += ',';
        append_field(out, t.column_name(columns[k]));
    }
    out += '\n';
}

void append_rows(std::string& out, const spotflow::TableView& t, const std::vector<int64_t>& columns) {
    std::vector<Kind> kinds;
    for (const int64_t c : columns) kinds.push_back(kind_of(t.column_format(c)));
    for (int64_t r = 0; r < t.rows(); ++r) {
        for (size_t k = 0; k < columns.size(); ++k) {
            if (k) out += ',';
            append_value(out, t, columns[k], kinds[k], r);
        }
        out += '\n';
    }
}

void write_file(const std::string& path, std::string_view text) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), std::fclose);
    if (!f || std::fwrite(text.data(), 1, text.size(), f.get()) != text.size() || std::fclose(f.release()) != 0)
        throw spotflow::PluginError(SPOTFLOW_ERR_IO, "cannot write '" + path + "': " + std::strerror(errno));
}

void CsvFile::separate() {
    if (row_open_) text_ += ',';
    row_open_ = true;
}

CsvFile& CsvFile::field(std::string_view s) {
    separate();
    append_field(text_, s);
    return *this;
}

CsvFile& CsvFile::field(int64_t v) {
    separate();
    fmt::format_to(std::back_inserter(text_), "{}", v);
    return *this;
}

CsvFile& CsvFile::field(double v) {
    separate();
    if (!std::isnan(v)) fmt::format_to(std::back_inserter(text_), "{}", v);
    return *this;
}

CsvFile& CsvFile::null() {
    separate();
    return *this;
}

void CsvFile::end_row() {
    text_ += '\n';
    row_open_ = false;
}

} // namespace spotflow_csv
