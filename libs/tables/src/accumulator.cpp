#include "spotflow_tables/accumulator.hpp"

#include <cmath>
#include <stdexcept>

namespace spotflow::tables {
namespace {

ColumnType type_of(char format) {
    switch (format) {
    case 'c': case 'C': case 's': case 'S': case 'i': case 'I': case 'l': case 'L': case 'b':
        return ColumnType::Int64;
    case 'u': case 'U':
        return ColumnType::Utf8;
    default:
        return ColumnType::Float64;
    }
}

} // namespace

int64_t TableAccumulator::index(const std::string& name) const {
    for (size_t c = 0; c < names_.size(); ++c)
        if (names_[c] == name) return static_cast<int64_t>(c);
    return -1;
}

void TableAccumulator::append(const ArrowSchema& schema, const ArrowArray& array) {
    const TableView v(schema, array);
    if (names_.empty() && rows_ == 0) {
        for (int64_t c = 0; c < v.columns(); ++c) {
            names_.emplace_back(v.column_name(c));
            cols_.push_back(Column{type_of(v.column_format(c)), {}, {}, {}, {}});
        }
    } else {
        if (v.columns() != static_cast<int64_t>(names_.size()))
            throw std::invalid_argument("a batch has " + std::to_string(v.columns()) + " columns where the first had " +
                                        std::to_string(names_.size()));
        for (int64_t c = 0; c < v.columns(); ++c)
            if (v.column_name(c) != names_[static_cast<size_t>(c)])
                throw std::invalid_argument("a batch has column '" + std::string(v.column_name(c)) +
                                            "' where the first had '" + names_[static_cast<size_t>(c)] + "'");
    }
    for (int64_t c = 0; c < v.columns(); ++c) {
        Column& col = cols_[static_cast<size_t>(c)];
        for (int64_t r = 0; r < v.rows(); ++r) {
            const bool null = v.is_null(c, r);
            col.null.push_back(null);
            switch (col.type) {
            case ColumnType::Int64: col.i.push_back(null ? 0 : v.get_int(c, r)); break;
            case ColumnType::Float64: col.d.push_back(null ? std::nan("") : v.get_double(c, r)); break;
            case ColumnType::Utf8: col.s.emplace_back(null ? std::string_view() : v.get_string(c, r)); break;
            }
        }
    }
    rows_ += v.rows();
}

void TableAccumulator::append_row(const std::vector<std::pair<std::string, double>>& values) {
    std::vector<const double*> given(cols_.size(), nullptr);
    for (const auto& [name, value] : values) {
        const int64_t c = index(name);
        if (c < 0) throw std::invalid_argument("the table has no column '" + name + "'");
        if (cols_[static_cast<size_t>(c)].type == ColumnType::Utf8)
            throw std::invalid_argument("column '" + name + "' holds text, not numbers");
        given[static_cast<size_t>(c)] = &value;
    }
    for (size_t c = 0; c < cols_.size(); ++c) {
        Column& col = cols_[c];
        const double* v = given[c];
        col.null.push_back(v == nullptr);
        switch (col.type) {
        case ColumnType::Int64: col.i.push_back(v ? static_cast<int64_t>(std::llround(*v)) : 0); break;
        case ColumnType::Float64: col.d.push_back(v ? *v : std::nan("")); break;
        case ColumnType::Utf8: col.s.emplace_back(); break;
        }
    }
    ++rows_;
}

std::vector<double> TableAccumulator::doubles(const std::string& name) const {
    const int64_t c = index(name);
    if (c < 0) throw std::invalid_argument("the table has no column '" + name + "'");
    const Column& col = cols_[static_cast<size_t>(c)];
    if (col.type == ColumnType::Float64) return col.d;
    if (col.type == ColumnType::Utf8) throw std::invalid_argument("column '" + name + "' holds text, not numbers");
    std::vector<double> out(col.i.size());
    for (size_t r = 0; r < out.size(); ++r) out[r] = col.null[r] ? std::nan("") : static_cast<double>(col.i[r]);
    return out;
}

std::vector<int64_t> TableAccumulator::ints(const std::string& name) const {
    const int64_t c = index(name);
    if (c < 0) throw std::invalid_argument("the table has no column '" + name + "'");
    const Column& col = cols_[static_cast<size_t>(c)];
    if (col.type == ColumnType::Int64) return col.i;
    if (col.type == ColumnType::Utf8) throw std::invalid_argument("column '" + name + "' holds text, not numbers");
    std::vector<int64_t> out(col.d.size());
    for (size_t r = 0; r < out.size(); ++r) out[r] = std::isnan(col.d[r]) ? 0 : static_cast<int64_t>(col.d[r]);
    return out;
}

std::vector<std::string> TableAccumulator::strings(const std::string& name) const {
    const int64_t c = index(name);
    if (c < 0) throw std::invalid_argument("the table has no column '" + name + "'");
    const Column& col = cols_[static_cast<size_t>(c)];
    std::vector<std::string> out(col.null.size());
    for (size_t r = 0; r < out.size(); ++r) {
        if (col.null[r]) continue;
        if (col.type == ColumnType::Utf8) out[r] = col.s[r];
        else if (col.type == ColumnType::Int64) out[r] = std::to_string(col.i[r]);
        else {
            std::string t = std::to_string(col.d[r]);
            out[r] = t;
        }
    }
    return out;
}

void TableAccumulator::build(const std::vector<int64_t>& order, const std::vector<IntColumn>& extra,
                             ArrowSchema* schema, ArrowArray* array) const {
    for (const auto& e : extra)
        if (static_cast<int64_t>(e.values.size()) != rows_)
            throw std::logic_error("column '" + e.name + "' has " + std::to_string(e.values.size()) + " values for " +
                                   std::to_string(rows_) + " rows");
    TableBuilder b;
    b.reserve(order.size());
    std::vector<const IntColumn*> replaced(names_.size(), nullptr);
    for (const auto& e : extra)
        if (const int64_t c = index(e.name); c >= 0) replaced[static_cast<size_t>(c)] = &e;
    for (size_t c = 0; c < names_.size(); ++c) {
        const size_t out = b.add_column(names_[c], replaced[c] ? ColumnType::Int64 : cols_[c].type);
        const Column& col = cols_[c];
        for (const int64_t r0 : order) {
            const auto r = static_cast<size_t>(r0);
            if (replaced[c]) b.append_int(out, replaced[c]->values[r]);
            else if (col.null[r]) b.append_null(out);
            else if (col.type == ColumnType::Int64) b.append_int(out, col.i[r]);
            else if (col.type == ColumnType::Float64) b.append_double(out, col.d[r]);
            else b.append_string(out, col.s[r]);
        }
    }
    for (const auto& e : extra) {
        if (index(e.name) >= 0) continue;
        const size_t out = b.add_column(e.name, ColumnType::Int64);
        for (const int64_t r : order) b.append_int(out, e.values[static_cast<size_t>(r)]);
    }
    b.finish(schema, array);
}

} // namespace spotflow::tables
