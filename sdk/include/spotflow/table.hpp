// spotflow/table.hpp: C++ helpers to build and read tables as Arrow C Data
// Interface record batches (a struct array, one child per column).
// Header-only: a plugin that uses them links nothing from spotflow.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "spotflow/arrow_c.h"

namespace spotflow {

enum class ColumnType { Int64, Float64, Utf8 };

inline const char* arrow_format(ColumnType t) {
    switch (t) {
    case ColumnType::Int64: return "l";
    case ColumnType::Float64: return "g";
    case ColumnType::Utf8: return "u";
    }
    return "";
}

// Builds one record batch column by column, row by row:
//
//   TableBuilder b;
//   auto frame = b.add_column("frame", ColumnType::Int64);
//   auto x = b.add_column("x", ColumnType::Float64);
//   b.append_int(frame, 3); b.append_double(x, 12.5);
//   b.finish(&schema, &array);     // moves the data into the Arrow structs
//
// Every column must hold the same number of values at finish().
class TableBuilder {
public:
    size_t add_column(std::string name, ColumnType type) {
        cols_.push_back(Column{std::move(name), type, {}, {}, {0}, {}, 0});
        return cols_.size() - 1;
    }
    size_t column_count() const { return cols_.size(); }

    void reserve(size_t rows) {
        for (auto& c : cols_) {
            if (c.type == ColumnType::Utf8) c.offsets.reserve(rows + 1);
            else c.values.reserve(rows * 8);
        }
    }
    void append_int(size_t col, int64_t v) { push_raw(col, ColumnType::Int64, &v); }
    void append_double(size_t col, double v) { push_raw(col, ColumnType::Float64, &v); }
    void append_string(size_t col, std::string_view s) {
        Column& c = at(col, ColumnType::Utf8);
        c.chars.insert(c.chars.end(), s.begin(), s.end());
        if (c.chars.size() > INT32_MAX) throw std::length_error("utf8 column over 2 GiB");
        c.offsets.push_back(static_cast<int32_t>(c.chars.size()));
        mark_valid(c, true);
    }
    // A missing value (Arrow null), e.g. a frame where a track has no point.
    void append_null(size_t col) {
        Column& c = cols_.at(col);
        if (c.type == ColumnType::Utf8) c.offsets.push_back(c.offsets.back());
        else c.values.insert(c.values.end(), 8, 0);
        mark_valid(c, false);
    }
    int64_t rows(size_t col) const { return cols_.at(col).length; }

    // Moves the built batch into *schema and *array (both must be released
    // structs or fresh memory). The builder is empty afterwards.
    void finish(ArrowSchema* schema, ArrowArray* array) {
        const int64_t n = cols_.empty() ? 0 : cols_.front().length;
        for (const auto& c : cols_)
            if (c.length != n)
                throw std::logic_error("TableBuilder: column '" + c.name + "' has " + std::to_string(c.length) +
                                       " rows, expected " + std::to_string(n));
        auto h = std::make_shared<Holder>();
        h->cols = std::move(cols_);
        cols_.clear();
        const size_t k = h->cols.size();
        h->schema_children.resize(k);
        h->schema_child_ptrs.resize(k);
        h->array_children.resize(k);
        h->array_child_ptrs.resize(k);
        h->child_buffers.resize(k);
        for (size_t i = 0; i < k; ++i) {
            Column& c = h->cols[i];
            ArrowSchema& cs = h->schema_children[i];
            cs = ArrowSchema{};
            cs.format = arrow_format(c.type);
            cs.name = c.name.c_str();
            cs.flags = ARROW_FLAG_NULLABLE;
            cs.release = &release_child_schema;
            cs.private_data = new std::shared_ptr<Holder>(h);
            h->schema_child_ptrs[i] = &cs;

            ArrowArray& ca = h->array_children[i];
            ca = ArrowArray{};
            ca.length = c.length;
            ca.null_count = c.null_count;
            auto& bufs = h->child_buffers[i];
            bufs.push_back(c.null_count ? c.validity.data() : nullptr);
            if (c.type == ColumnType::Utf8) {
                bufs.push_back(c.offsets.data());
                bufs.push_back(c.chars.empty() ? static_cast<const void*>(&kEmpty) : c.chars.data());
            } else {
                bufs.push_back(c.values.empty() ? static_cast<const void*>(&kEmpty) : c.values.data());
            }
            ca.n_buffers = static_cast<int64_t>(bufs.size());
            ca.buffers = bufs.data();
            ca.release = &release_child_array;
            ca.private_data = new std::shared_ptr<Holder>(h);
            h->array_child_ptrs[i] = &ca;
        }
        *schema = ArrowSchema{};
        schema->format = "+s";
        schema->name = "";
        schema->n_children = static_cast<int64_t>(k);
        schema->children = h->schema_child_ptrs.data();
        schema->release = &release_schema;
        schema->private_data = new std::shared_ptr<Holder>(h);

        *array = ArrowArray{};
        array->length = n;
        array->null_count = 0;
        array->n_buffers = 1;
        h->struct_buffers[0] = nullptr;
        array->buffers = h->struct_buffers;
        array->n_children = static_cast<int64_t>(k);
        array->children = h->array_child_ptrs.data();
        array->release = &release_array;
        array->private_data = new std::shared_ptr<Holder>(h);
    }

private:
    struct Column {
        std::string name;
        ColumnType type;
        std::vector<uint8_t> values;   // int64 / float64, 8 bytes each
        std::vector<uint8_t> chars;    // utf8 data
        std::vector<int32_t> offsets;  // utf8 offsets, starts with 0
        std::vector<uint8_t> validity; // bitmap; kept once the first null arrives
        int64_t length;
        int64_t null_count = 0;
    };
    struct Holder {
        std::vector<Column> cols;
        std::vector<ArrowSchema> schema_children;
        std::vector<ArrowSchema*> schema_child_ptrs;
        std::vector<ArrowArray> array_children;
        std::vector<ArrowArray*> array_child_ptrs;
        std::vector<std::vector<const void*>> child_buffers;
        const void* struct_buffers[1] = {nullptr};
    };
    static inline const int64_t kEmpty = 0;

    Column& at(size_t col, ColumnType want) {
        Column& c = cols_.at(col);
        if (c.type != want) throw std::logic_error("TableBuilder: column '" + c.name + "' has another type");
        return c;
    }
    void push_raw(size_t col, ColumnType want, const void* v) {
        Column& c = at(col, want);
        const auto* b = static_cast<const uint8_t*>(v);
        c.values.insert(c.values.end(), b, b + 8);
        mark_valid(c, true);
    }
    static void mark_valid(Column& c, bool valid) {
        const int64_t i = c.length++;
        if (!valid && c.null_count == 0) c.validity.assign(static_cast<size_t>((i + 8) / 8 + 1), 0xFF);
        if (c.null_count > 0 || !valid) {
            if (c.validity.size() * 8 <= static_cast<size_t>(i)) c.validity.push_back(0xFF);
            if (valid) c.validity[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
            else c.validity[i / 8] &= static_cast<uint8_t>(~(1u << (i % 8)));
        }
        if (!valid) ++c.null_count;
    }
    static void drop(void* p) { delete static_cast<std::shared_ptr<Holder>*>(p); }
    static void release_child_schema(ArrowSchema* s) { drop(s->private_data); s->release = nullptr; }
    static void release_child_array(ArrowArray* a) { drop(a->private_data); a->release = nullptr; }
    static void release_schema(ArrowSchema* s) {
        for (int64_t i = 0; i < s->n_children; ++i)
            if (s->children[i]->release) s->children[i]->release(s->children[i]);
        drop(s->private_data);
        s->release = nullptr;
    }
    static void release_array(ArrowArray* a) {
        for (int64_t i = 0; i < a->n_children; ++i)
            if (a->children[i]->release) a->children[i]->release(a->children[i]);
        drop(a->private_data);
        a->release = nullptr;
    }

    std::vector<Column> cols_;
};

// Read access to a struct record batch. Numeric columns of any Arrow integer
// or float format but float16 read as double or int64; utf8 ("u", "U") as
// string_view.
class TableView {
public:
    // Throws std::invalid_argument naming what is wrong with the batch.
    TableView(const ArrowSchema& schema, const ArrowArray& array) : s_(schema), a_(array) {
        if (!schema.format || std::strcmp(schema.format, "+s") != 0)
            throw std::invalid_argument("table is not a struct record batch (format '" +
                                        std::string(schema.format ? schema.format : "") + "')");
        if (schema.n_children != array.n_children)
            throw std::invalid_argument("table schema has " + std::to_string(schema.n_children) +
                                        " columns but the array " + std::to_string(array.n_children));
        for (int64_t i = 0; i < schema.n_children; ++i) {
            const char* f = schema.children[i]->format;
            if (!f || !(std::strlen(f) == 1 && std::strchr("bcCsSiIlLfguU", f[0])))
                throw std::invalid_argument("column '" + std::string(column_name(i)) +
                                            "' has unsupported Arrow format '" + (f ? f : "") + "'");
            if (array.children[i]->length + array.children[i]->offset < array.length + array.offset)
                throw std::invalid_argument("column '" + std::string(column_name(i)) + "' is too short");
        }
    }

    int64_t rows() const { return a_.length; }
    int64_t columns() const { return s_.n_children; }
    std::string_view column_name(int64_t c) const { return s_.children[c]->name ? s_.children[c]->name : ""; }
    char column_format(int64_t c) const { return s_.children[c]->format[0]; }
    bool is_string(int64_t c) const { return column_format(c) == 'u' || column_format(c) == 'U'; }

    // Index of the column called `name`, or -1.
    int64_t find(std::string_view name) const {
        for (int64_t i = 0; i < s_.n_children; ++i)
            if (column_name(i) == name) return i;
        return -1;
    }
    // Index of the column called `name`; throws naming the column if absent.
    int64_t require(std::string_view name) const {
        const int64_t i = find(name);
        if (i < 0) throw std::invalid_argument("table has no column '" + std::string(name) + "'");
        return i;
    }

    bool is_null(int64_t c, int64_t row) const {
        const ArrowArray& ch = *a_.children[c];
        if (ch.null_count == 0 || !ch.buffers[0]) return false;
        const int64_t i = index(c, row);
        return !((static_cast<const uint8_t*>(ch.buffers[0])[i / 8] >> (i % 8)) & 1);
    }

    // A numeric value as double; NaN for a null.
    double get_double(int64_t c, int64_t row) const {
        if (is_null(c, row)) return std::nan("");
        const ArrowArray& ch = *a_.children[c];
        const int64_t i = index(c, row);
        const void* b = ch.buffers[1];
        switch (column_format(c)) {
        case 'b': return (static_cast<const uint8_t*>(b)[i / 8] >> (i % 8)) & 1;
        case 'c': return static_cast<const int8_t*>(b)[i];
        case 'C': return static_cast<const uint8_t*>(b)[i];
        case 's': return static_cast<const int16_t*>(b)[i];
        case 'S': return static_cast<const uint16_t*>(b)[i];
        case 'i': return static_cast<const int32_t*>(b)[i];
        case 'I': return static_cast<const uint32_t*>(b)[i];
        case 'l': return static_cast<double>(static_cast<const int64_t*>(b)[i]);
        case 'L': return static_cast<double>(static_cast<const uint64_t*>(b)[i]);
        case 'f': return static_cast<const float*>(b)[i];
        case 'g': return static_cast<const double*>(b)[i];
        }
        throw std::invalid_argument("column '" + std::string(column_name(c)) + "' is not numeric");
    }
    // An integer value; floats are truncated towards zero; a null reads as 0.
    int64_t get_int(int64_t c, int64_t row) const {
        if (column_format(c) == 'l' && !is_null(c, row))
            return static_cast<const int64_t*>(a_.children[c]->buffers[1])[index(c, row)];
        const double v = get_double(c, row);
        return std::isnan(v) ? 0 : static_cast<int64_t>(v);
    }
    std::string_view get_string(int64_t c, int64_t row) const {
        const ArrowArray& ch = *a_.children[c];
        const int64_t i = index(c, row);
        const char* data = static_cast<const char*>(ch.buffers[2]);
        if (column_format(c) == 'u') {
            const auto* off = static_cast<const int32_t*>(ch.buffers[1]);
            return {data + off[i], static_cast<size_t>(off[i + 1] - off[i])};
        }
        if (column_format(c) == 'U') {
            const auto* off = static_cast<const int64_t*>(ch.buffers[1]);
            return {data + off[i], static_cast<size_t>(off[i + 1] - off[i])};
        }
        throw std::invalid_argument("column '" + std::string(column_name(c)) + "' is not a string column");
    }

private:
    int64_t index(int64_t c, int64_t row) const { return a_.offset + a_.children[c]->offset + row; }
    const ArrowSchema& s_;
    const ArrowArray& a_;
};

// Releases both structs if they are live; safe on released ones.
inline void release_table(ArrowSchema* s, ArrowArray* a) {
    if (a && a->release) a->release(a);
    if (s && s->release) s->release(s);
}

} // namespace spotflow
