#include <gtest/gtest.h>

#include "nearest.hpp"
#include "plugin_harness.hpp"

using namespace link_nearest;

namespace {

TEST(LinkNearest, LinksStraightTracks) {
    // Two particles drifting right, 20 px apart.
    std::vector<int64_t> f;
    std::vector<double> x, y;
    for (int t = 0; t < 5; ++t) {
        f.insert(f.end(), {t, t});
        x.insert(x.end(), {10.0 + t, 10.0 + t});
        y.insert(y.end(), {10.0, 30.0});
    }
    const auto id = link(f, x, y, {});
    for (int t = 0; t < 5; ++t) {
        EXPECT_EQ(id[2 * t], 0);
        EXPECT_EQ(id[2 * t + 1], 1);
    }
}

TEST(LinkNearest, GreedySwapsTheseTwoCrossingParticles) {
    // A: (0,0) -> (2,0); B: (3,0) -> (4.9,0). The closest pair is B -> A'
    // (1 px), taken first; A is left with B' (4.9 px). The documented
    // weakness of greedy linking, which link.lap's global assignment fixes.
    const auto id = link({0, 0, 1, 1}, {0, 3, 2, 4.9}, {0, 0, 0, 0}, {5.0, 0});
    EXPECT_EQ(id[2], id[1]); // A' joined B's track
    EXPECT_EQ(id[3], id[0]);
}

TEST(LinkNearest, GapsOnlyWithinMaxGap) {
    // One particle seen at frames 0, 1, then 4 (a 2-frame blink).
    const std::vector<int64_t> f = {0, 1, 4};
    const std::vector<double> x = {5, 5.5, 6}, y = {5, 5, 5};
    auto id = link(f, x, y, {5.0, 1});
    EXPECT_NE(id[2], id[1]);
    id = link(f, x, y, {5.0, 2});
    EXPECT_EQ(id[2], id[1]);
}

TEST(LinkNearest, PluginAppendsTrackIdToEveryColumn) {
    spotflow::testing::PluginLibrary lib(PLUGIN_PATH);
    spotflow::testing::FakeHost host;
    spotflow::testing::NodeRunner node(lib.plugin("link.nearest"), host, R"({"max_distance": 5.0, "max_gap": 0})");
    ASSERT_TRUE(node.created()) << host.error;
    spotflow::TableBuilder b;
    const auto cf = b.add_column("frame", spotflow::ColumnType::Int64);
    const auto cx = b.add_column("x", spotflow::ColumnType::Float64);
    const auto cy = b.add_column("y", spotflow::ColumnType::Float64);
    const auto cp = b.add_column("probability", spotflow::ColumnType::Float64);
    for (int t = 0; t < 3; ++t) {
        b.append_int(cf, t);
        b.append_double(cx, 1.0 + t);
        b.append_double(cy, 2.0);
        b.append_double(cp, 0.9);
    }
    spotflow::testing::OwnedPacket in;
    in.p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&in.p.schema, &in.p.array);
    ASSERT_EQ(node.process(0, in.p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    const auto t = node.emitted.at(0)->table();
    ASSERT_EQ(t.columns(), 5);
    EXPECT_EQ(t.column_name(4), "track_id");
    EXPECT_EQ(t.get_double(t.require("probability"), 2), 0.9);
    for (int r = 0; r < 3; ++r) EXPECT_EQ(t.get_int(4, r), 0);
}

TEST(LinkNearest, MissingColumnIsNamed) {
    spotflow::testing::PluginLibrary lib(PLUGIN_PATH);
    spotflow::testing::FakeHost host;
    spotflow::testing::NodeRunner node(lib.plugin("link.nearest"), host, R"({"max_distance": 5.0, "max_gap": 0})");
    spotflow::TableBuilder b;
    b.append_int(b.add_column("frame", spotflow::ColumnType::Int64), 0);
    spotflow::testing::OwnedPacket in;
    in.p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&in.p.schema, &in.p.array);
    ASSERT_EQ(node.process(0, in.p), SPOTFLOW_OK);
    EXPECT_EQ(node.finish(), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "detections: the table has no column 'x'");
}

} // namespace
