#include <gtest/gtest.h>

#include <cmath>

#include "spotflow_tables/accumulator.hpp"

using namespace spotflow;
using spotflow::tables::TableAccumulator;

namespace {

void batch(TableAccumulator& acc, std::vector<int64_t> frames, std::vector<double> xs, std::vector<std::string> tags,
           bool null_last_x = false) {
    TableBuilder b;
    const auto f = b.add_column("frame", ColumnType::Int64);
    const auto x = b.add_column("x", ColumnType::Float64);
    const auto t = b.add_column("tag", ColumnType::Utf8);
    for (size_t i = 0; i < frames.size(); ++i) {
        b.append_int(f, frames[i]);
        if (null_last_x && i + 1 == frames.size()) b.append_null(x);
        else b.append_double(x, xs[i]);
        b.append_string(t, tags[i]);
    }
    ArrowSchema s;
    ArrowArray a;
    b.finish(&s, &a);
    acc.append(s, a);
    release_table(&s, &a);
}

TEST(TableAccumulator, KeepsEveryColumnAcrossBatchesAndRebuildsInAnyOrder) {
    TableAccumulator acc;
    batch(acc, {0, 0}, {1.5, 2.5}, {"a", "b"});
    batch(acc, {1}, {3.5}, {"c"}, true);
    EXPECT_EQ(acc.rows(), 3);
    EXPECT_EQ(acc.ints("frame"), (std::vector<int64_t>{0, 0, 1}));
    const auto xs = acc.doubles("x");
    EXPECT_EQ(xs[1], 2.5);
    EXPECT_TRUE(std::isnan(xs[2]));
    EXPECT_EQ(acc.doubles("frame")[2], 1.0);

    ArrowSchema s;
    ArrowArray a;
    acc.build({2, 0}, {{"track_id", {7, 8, 9}}}, &s, &a);
    TableView v(s, a);
    ASSERT_EQ(v.rows(), 2);
    ASSERT_EQ(v.columns(), 4);
    EXPECT_EQ(v.column_name(3), "track_id");
    EXPECT_EQ(v.get_int(3, 0), 9);
    EXPECT_EQ(v.get_int(3, 1), 7);
    EXPECT_TRUE(v.is_null(1, 0)); // the null x of row 2 survives
    EXPECT_EQ(v.get_string(2, 1), "a");
    release_table(&s, &a);
}

TEST(TableAccumulator, ReplacesASameNamedColumn) {
    TableAccumulator acc;
    batch(acc, {0, 1}, {1, 2}, {"a", "b"});
    ArrowSchema s;
    ArrowArray a;
    acc.build({0, 1}, {{"frame", {5, 6}}}, &s, &a);
    TableView v(s, a);
    EXPECT_EQ(v.columns(), 3);
    EXPECT_EQ(v.get_int(0, 1), 6);
    release_table(&s, &a);
}

TEST(TableAccumulator, RefusesABatchWithOtherColumnsAndAMissingColumn) {
    TableAccumulator acc;
    batch(acc, {0}, {1}, {"a"});
    TableBuilder b;
    b.add_column("frame", ColumnType::Int64);
    ArrowSchema s;
    ArrowArray a;
    b.finish(&s, &a);
    EXPECT_THROW(acc.append(s, a), std::invalid_argument);
    release_table(&s, &a);
    try {
        acc.doubles("y");
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "the table has no column 'y'");
    }
    EXPECT_THROW(acc.doubles("tag"), std::invalid_argument);
}

} // namespace
