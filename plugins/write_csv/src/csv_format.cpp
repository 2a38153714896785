#include "csv_format.hpp"

#include <cmath>
#include <iterator>
#include <vector>

#include <fmt/format.h>

namespace write_csv {
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
        // A float32 column prints as float32, so 0.1f reads "0.1", not 0.10000000149011612.
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

} // namespace write_csv
