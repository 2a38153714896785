// spotflow/table.hpp: TableBuilder -> Arrow C structs -> TableView, and the
// release rules of the C Data Interface. Meant to run under ASan too: a
// release that frees too little leaks, one that frees too much is a
// use-after-free.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "spotflow/table.hpp"

namespace {

using spotflow::ColumnType;
using spotflow::TableBuilder;
using spotflow::TableView;

// A finished batch that releases itself.
struct Batch {
    ArrowSchema schema{};
    ArrowArray array{};
    explicit Batch(TableBuilder& b) { b.finish(&schema, &array); }
    ~Batch() { spotflow::release_table(&schema, &array); }
    TableView view() const { return TableView(schema, array); }
};

bool bit(const void* bitmap, int64_t i) { return (static_cast<const uint8_t*>(bitmap)[i / 8] >> (i % 8)) & 1; }

TEST(TableBuilder, RoundTripsEveryTypeWithNulls) {
    TableBuilder b;
    const size_t frame = b.add_column("frame", ColumnType::Int64);
    const size_t x = b.add_column("x", ColumnType::Float64);
    const size_t label = b.add_column("label", ColumnType::Utf8);
    const int64_t n = 20;
    for (int64_t i = 0; i < n; ++i) {
        if (i % 7 == 3) b.append_null(frame);
        else b.append_int(frame, -i * 1000000000000);
        if (i >= 10) b.append_null(x); // the first null after a full byte of valid values
        else b.append_double(x, i + 0.5);
        if (i == 0) b.append_null(label);
        else b.append_string(label, std::string(static_cast<size_t>(i % 4), static_cast<char>('a' + i)));
    }
    Batch batch(b);
    EXPECT_STREQ(batch.schema.format, "+s");
    ASSERT_EQ(batch.array.length, n);
    EXPECT_EQ(b.column_count(), 0u); // finish() empties the builder

    const TableView t = batch.view();
    ASSERT_EQ(t.columns(), 3);
    EXPECT_EQ(t.column_name(0), "frame");
    EXPECT_EQ(t.column_format(0), 'l');
    EXPECT_EQ(t.column_format(1), 'g');
    EXPECT_EQ(t.column_format(2), 'u');
    EXPECT_TRUE(t.is_string(2));
    EXPECT_EQ(t.require("label"), 2);
    EXPECT_EQ(t.find("y"), -1);
    EXPECT_THROW(t.require("y"), std::invalid_argument);

    EXPECT_EQ(batch.array.children[0]->null_count, 3); // rows 3, 10, 17
    EXPECT_EQ(batch.array.children[1]->null_count, 10);
    EXPECT_EQ(batch.array.children[2]->null_count, 1);
    for (int64_t i = 0; i < n; ++i) {
        SCOPED_TRACE("row " + std::to_string(i));
        // The bitmap itself, as any Arrow reader sees it: 1 = valid.
        for (int64_t c = 0; c < 3; ++c) EXPECT_EQ(bit(batch.array.children[c]->buffers[0], i), !t.is_null(c, i));
        EXPECT_EQ(t.is_null(0, i), i % 7 == 3);
        if (i % 7 == 3) {
            EXPECT_TRUE(std::isnan(t.get_double(0, i)));
            EXPECT_EQ(t.get_int(0, i), 0);
        } else {
            EXPECT_EQ(t.get_int(0, i), -i * 1000000000000);
        }
        EXPECT_EQ(t.is_null(1, i), i >= 10);
        if (i < 10) {
            EXPECT_EQ(t.get_double(1, i), i + 0.5);
        }
        EXPECT_EQ(t.is_null(2, i), i == 0);
        EXPECT_EQ(t.get_string(2, i), i == 0 ? "" : std::string(static_cast<size_t>(i % 4), static_cast<char>('a' + i)));
    }
}

TEST(TableBuilder, FirstNullAfterAnyNumberOfValidValues) {
    // Every position of the first null relative to the bitmap's bytes.
    for (int64_t valid = 0; valid <= 20; ++valid) {
        SCOPED_TRACE("valid before the null: " + std::to_string(valid));
        TableBuilder b;
        const size_t c = b.add_column("v", ColumnType::Float64);
        for (int64_t i = 0; i < valid; ++i) b.append_double(c, 1);
        b.append_null(c);
        for (int i = 0; i < 9; ++i) b.append_double(c, 2);
        Batch batch(b);
        const TableView t = batch.view();
        for (int64_t i = 0; i < t.rows(); ++i) {
            EXPECT_EQ(t.is_null(0, i), i == valid) << "row " << i;
            EXPECT_EQ(bit(batch.array.children[0]->buffers[0], i), i != valid) << "row " << i;
        }
    }
}

TEST(TableBuilder, NoNullsMeansNoBitmap) {
    TableBuilder b;
    const size_t c = b.add_column("v", ColumnType::Int64);
    for (int i = 0; i < 10; ++i) b.append_int(c, i);
    Batch batch(b);
    EXPECT_EQ(batch.array.children[0]->null_count, 0);
    EXPECT_EQ(batch.array.children[0]->buffers[0], nullptr);
}

TEST(TableBuilder, EmptyColumnsHaveNonNullBuffers) {
    TableBuilder b;
    b.add_column("n", ColumnType::Int64);
    b.add_column("s", ColumnType::Utf8);
    Batch batch(b);
    EXPECT_EQ(batch.array.length, 0);
    for (int c = 0; c < 2; ++c)
        for (int64_t k = 1; k < batch.array.children[c]->n_buffers; ++k)
            EXPECT_NE(batch.array.children[c]->buffers[k], nullptr);
}

TEST(TableBuilder, ParentReleaseReleasesEverything) {
    TableBuilder b;
    b.append_string(b.add_column("s", ColumnType::Utf8), "a string long enough to live on the heap");
    ArrowSchema schema;
    ArrowArray array;
    b.finish(&schema, &array);
    // Only the parents are released; ASan's leak check sees anything left.
    array.release(&array);
    EXPECT_EQ(array.release, nullptr);
    schema.release(&schema);
    EXPECT_EQ(schema.release, nullptr);
}

TEST(TableBuilder, MovedOutChildOutlivesItsParent) {
    TableBuilder b;
    const size_t keep = b.add_column("kept", ColumnType::Utf8);
    const size_t other = b.add_column("other", ColumnType::Float64);
    for (int i = 0; i < 100; ++i) {
        b.append_string(keep, "value " + std::to_string(i));
        b.append_double(other, i);
    }
    ArrowSchema schema;
    ArrowArray array;
    b.finish(&schema, &array);

    // Move the first column out as the spec says: copy the struct, mark the
    // original released. Then release the parents.
    ArrowSchema child_schema = *schema.children[0];
    schema.children[0]->release = nullptr;
    ArrowArray child_array = *array.children[0];
    array.children[0]->release = nullptr;
    array.release(&array);
    schema.release(&schema);

    // The moved child's name, offsets and characters are still there.
    EXPECT_STREQ(child_schema.name, "kept");
    EXPECT_STREQ(child_schema.format, "u");
    ASSERT_EQ(child_array.length, 100);
    const auto* offsets = static_cast<const int32_t*>(child_array.buffers[1]);
    const auto* chars = static_cast<const char*>(child_array.buffers[2]);
    EXPECT_EQ(std::string(chars + offsets[42], static_cast<size_t>(offsets[43] - offsets[42])), "value 42");

    child_array.release(&child_array);
    EXPECT_EQ(child_array.release, nullptr);
    child_schema.release(&child_schema);
    EXPECT_EQ(child_schema.release, nullptr);
}

TEST(TableBuilder, ColumnLengthMismatchThrows) {
    TableBuilder b;
    const size_t a = b.add_column("a", ColumnType::Int64);
    b.add_column("b", ColumnType::Float64);
    b.append_int(a, 1);
    ArrowSchema schema{};
    ArrowArray array{};
    try {
        b.finish(&schema, &array);
        FAIL() << "finish() accepted columns of different lengths";
    } catch (const std::logic_error& e) {
        EXPECT_STREQ(e.what(), "TableBuilder: column 'b' has 0 rows, expected 1");
    }
    EXPECT_EQ(schema.release, nullptr); // nothing was produced
    EXPECT_EQ(array.release, nullptr);
}

TEST(TableBuilder, AppendOfTheWrongTypeThrows) {
    TableBuilder b;
    const size_t a = b.add_column("a", ColumnType::Int64);
    EXPECT_THROW(b.append_double(a, 1.0), std::logic_error);
    EXPECT_THROW(b.append_string(a, "x"), std::logic_error);
    EXPECT_THROW(b.append_int(7, 1), std::out_of_range);
}

// A one-column batch over caller-owned buffers, for TableView alone.
struct RawBatch {
    ArrowSchema child_schema{};
    ArrowSchema* schema_children[1] = {&child_schema};
    ArrowSchema schema{};
    const void* buffers[2] = {nullptr, nullptr};
    ArrowArray child{};
    ArrowArray* array_children[1] = {&child};
    const void* struct_buffers[1] = {nullptr};
    ArrowArray array{};

    RawBatch(const char* format, const void* values, int64_t length) {
        child_schema.format = format;
        child_schema.name = "v";
        schema.format = "+s";
        schema.n_children = 1;
        schema.children = schema_children;
        buffers[1] = values;
        child.length = length;
        child.n_buffers = 2;
        child.buffers = buffers;
        array.length = length;
        array.n_buffers = 1;
        array.buffers = struct_buffers;
        array.n_children = 1;
        array.children = array_children;
    }
    RawBatch(const RawBatch&) = delete;
};

template <class T> double read_back(const char* format, T value) {
    const T values[2] = {T{}, value};
    RawBatch raw(format, values, 2);
    return TableView(raw.schema, raw.array).get_double(0, 1);
}

TEST(TableView, GetDoubleReadsEveryNumericFormat) {
    EXPECT_EQ(read_back<int8_t>("c", -100), -100);
    EXPECT_EQ(read_back<uint8_t>("C", 200), 200);
    EXPECT_EQ(read_back<int16_t>("s", -30000), -30000);
    EXPECT_EQ(read_back<uint16_t>("S", 60000), 60000);
    EXPECT_EQ(read_back<int32_t>("i", -2000000000), -2000000000);
    EXPECT_EQ(read_back<uint32_t>("I", 4000000000u), 4000000000.0);
    EXPECT_EQ(read_back<int64_t>("l", -(int64_t{1} << 53)), -9007199254740992.0);
    EXPECT_EQ(read_back<uint64_t>("L", uint64_t{1} << 63), 9223372036854775808.0);
    EXPECT_EQ(read_back<float>("f", 1.5f), 1.5);
    EXPECT_EQ(read_back<double>("g", -2.25), -2.25);

    const uint8_t bits = 0b10; // booleans are bit-packed: row 1 true, row 0 false
    RawBatch raw("b", &bits, 2);
    const TableView t(raw.schema, raw.array);
    EXPECT_EQ(t.get_double(0, 0), 0.0);
    EXPECT_EQ(t.get_double(0, 1), 1.0);
    EXPECT_EQ(t.get_int(0, 1), 1);
}

TEST(TableView, HonoursStructAndChildOffsets) {
    const int64_t values[6] = {0, 10, 20, 30, 40, 50};
    RawBatch raw("l", values, 6);
    raw.array.offset = 1; // a slice of the struct...
    raw.array.length = 3;
    raw.child.offset = 2; // ...of a slice of the column
    raw.child.length = 4;
    const TableView t(raw.schema, raw.array);
    EXPECT_EQ(t.get_int(0, 0), 30);
    EXPECT_EQ(t.get_int(0, 2), 50);
}

TEST(TableView, RejectsWhatItCannotRead) {
    const int64_t values[2] = {1, 2};
    RawBatch raw("l", values, 2);
    auto message = [&] {
        try {
            TableView t(raw.schema, raw.array);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("no exception");
    };

    raw.schema.format = "l";
    EXPECT_EQ(message(), "table is not a struct record batch (format 'l')");
    raw.schema.format = "+s";

    raw.child_schema.format = "tdD"; // date32: not read by TableView
    EXPECT_EQ(message(), "column 'v' has unsupported Arrow format 'tdD'");
    raw.child_schema.format = "e"; // float16: no C++ type to read it as
    EXPECT_EQ(message(), "column 'v' has unsupported Arrow format 'e'");
    raw.child_schema.name = nullptr; // the spec allows a nameless column
    EXPECT_EQ(message(), "column '' has unsupported Arrow format 'e'");
    raw.child_schema.format = "l";
    raw.child_schema.name = "v";

    raw.child.length = 1;
    EXPECT_EQ(message(), "column 'v' is too short");
    raw.child.length = 2;

    const TableView t(raw.schema, raw.array);
    EXPECT_THROW(t.get_string(0, 0), std::invalid_argument);
}

TEST(TableView, StringColumnIsNotNumeric) {
    TableBuilder b;
    b.append_string(b.add_column("s", ColumnType::Utf8), "x");
    Batch batch(b);
    try {
        batch.view().get_double(0, 0);
        FAIL() << "read a string as a number";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "column 's' is not numeric");
    }
}

} // namespace
