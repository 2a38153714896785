#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "spotflow/plugin_error.hpp"
#include "spotflow_tables/track_rows.hpp"

using namespace spotflow;
using spotflow::tables::TrackRow;
using spotflow::tables::TrackRows;

namespace {

struct Packet {
    spotflow_packet p{};
    ~Packet() { release_table(&p.schema, &p.array); }
};

// frame, x, y, track_id (+ z): row 1 bridges a frame (null x), row 2 has no track_id.
void fill(Packet& out, bool with_z, bool with_id = true) {
    TableBuilder b;
    const auto f = b.add_column("frame", ColumnType::Int64);
    const auto x = b.add_column("x", ColumnType::Float64);
    const auto y = b.add_column("y", ColumnType::Float64);
    const size_t z = with_z ? b.add_column("z", ColumnType::Float64) : 0;
    const size_t id = with_id ? b.add_column("track_id", ColumnType::Int64) : 0;
    for (int64_t r = 0; r < 3; ++r) {
        b.append_int(f, r == 2 ? -1 : 3 + r);
        r == 1 ? b.append_null(x) : b.append_double(x, 1.5);
        b.append_double(y, 2.5);
        if (with_z) b.append_double(z, 7.0);
        if (!with_id) continue;
        r == 2 ? b.append_null(id) : b.append_int(id, 9);
    }
    out.p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&out.p.schema, &out.p.array);
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const PluginError& e) {
        return e.what();
    }
    return "";
}

TEST(TrackRows, ReadsPointsAndBridgedFrames) {
    Packet p;
    fill(p, true);
    const TrackRows t(p.p, "test");
    ASSERT_EQ(t.rows(), 3);
    const TrackRow a = t.row(0, 10);
    EXPECT_EQ(a.frame, 3);
    EXPECT_EQ(a.track_id, 9);
    EXPECT_EQ(a.x, 1.5);
    EXPECT_EQ(a.y, 2.5);
    EXPECT_EQ(a.z, 7.0);
    EXPECT_TRUE(a.has_position());
    EXPECT_FALSE(t.row(1, 11).has_position()); // null x
    EXPECT_EQ(error_of([&] { t.row(2, 12); }), "tracks row 12 has no track_id");
}

TEST(TrackRows, ZIsZeroWithoutAZColumn) {
    Packet p;
    fill(p, false);
    EXPECT_EQ(TrackRows(p.p, "test").row(0, 0).z, 0.0);
}

TEST(TrackRows, NamesMissingColumnsTensorsAndNegativeFrames) {
    Packet p;
    fill(p, false, false);
    EXPECT_EQ(error_of([&] { TrackRows(p.p, "test"); }), "tracks table: table has no column 'track_id'");
    spotflow_packet tensor{};
    tensor.kind = SPOTFLOW_DATA_TENSOR;
    EXPECT_EQ(error_of([&] { TrackRows(tensor, "write.x"); }), "write.x received a tensor; it reads tracks tables");
    // A negative frame:
    TableBuilder b;
    const auto f = b.add_column("frame", ColumnType::Int64);
    b.add_column("x", ColumnType::Float64), b.add_column("y", ColumnType::Float64);
    const auto id = b.add_column("track_id", ColumnType::Int64);
    b.append_int(f, -1), b.append_double(1, 0), b.append_double(2, 0), b.append_int(id, 1);
    Packet n;
    n.p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&n.p.schema, &n.p.array);
    EXPECT_EQ(error_of([&] { TrackRows(n.p, "test").row(0, 4); }), "tracks row 4 has frame -1");
}

} // namespace
