#include <gtest/gtest.h>

#include "gapfill.hpp"
#include "plugin_harness.hpp"

using namespace gapfill;

namespace {

// A fragment of a particle drifting along x by 0.5 px per frame.
Fragment piece(int64_t id, int64_t from, int64_t to, double x0, double y) {
    Fragment f{id, {}, {}, {}, std::nan("")};
    for (int64_t t = from; t <= to; ++t) {
        f.frame.push_back(t);
        f.x.push_back(x0 + 0.5 * (t - from));
        f.y.push_back(y + ((t % 2) ? 0.3 : -0.3));
    }
    return f;
}

TEST(GapFill, JoinsAFragmentAcrossAGap) {
    // One particle cut into frames 0..9 and 15..24, another far away.
    const std::vector<Fragment> f = {piece(1, 0, 9, 10, 10), piece(2, 15, 24, 17.5, 10), piece(3, 0, 24, 80, 80)};
    const auto next = join(f, {});
    EXPECT_EQ(next[0], 1);
    EXPECT_EQ(next[1], -1);
    EXPECT_EQ(next[2], -1);
}

TEST(GapFill, NeverMergesFragmentsThatOverlapInTime) {
    // The second fragment starts (frame 9) before the first ends (frame 9):
    // however close, they are two particles.
    const std::vector<Fragment> f = {piece(1, 0, 9, 10, 10), piece(2, 9, 20, 14.6, 10)};
    EXPECT_EQ(join(f, {}), (std::vector<int64_t>{-1, -1}));
}

TEST(GapFill, RefusesGapsBeyondMaxGapAndImplausibleJumps) {
    Options o;
    o.max_gap = 3;
    std::vector<Fragment> f = {piece(1, 0, 9, 10, 10), piece(2, 15, 24, 17.5, 10)}; // 5 frames missing
    EXPECT_EQ(join(f, o)[0], -1);
    // A start 30 px away after 2 frames is far outside what the fragments'
    // own steps (about 0.6 px per frame) make plausible.
    f = {piece(1, 0, 9, 10, 10), piece(2, 12, 20, 45, 10)};
    EXPECT_EQ(join(f, {})[0], -1);
}

TEST(GapFill, GlobalAssignmentPairsEachEndWithItsOwnContinuation) {
    // Two particles 4 px apart both blink at once; greedily the first end
    // could take the nearer wrong start.
    const std::vector<Fragment> f = {piece(1, 0, 9, 10, 10), piece(2, 0, 9, 10, 14), piece(3, 13, 20, 16, 10),
                                     piece(4, 13, 20, 16, 14)};
    const auto next = join(f, {});
    EXPECT_EQ(next[0], 2);
    EXPECT_EQ(next[1], 3);
}

TEST(GapFillPlugin, RenumbersTracksAndReportsBeforeAndAfter) {
    using namespace spotflow::testing;
    PluginLibrary lib(PLUGIN_PATH);
    FakeHost host;
    NodeRunner node(lib.plugin("gapfill.fragments"), host,
                    R"({"max_gap": 40, "max_distance": 100, "gate": 13.8, "step_variance": 0,
                        "velocity_weight": 0, "velocity_points": 5, "intensity_weight": 0, "figure": ""})");
    ASSERT_TRUE(node.created()) << host.error;
    spotflow::TableBuilder b;
    const auto cf = b.add_column("frame", spotflow::ColumnType::Int64), cx = b.add_column("x", spotflow::ColumnType::Float64),
               cy = b.add_column("y", spotflow::ColumnType::Float64), ci = b.add_column("track_id", spotflow::ColumnType::Int64);
    for (const auto& fr : {piece(7, 0, 9, 10, 10), piece(9, 15, 24, 17.5, 10)})
        for (size_t k = 0; k < fr.frame.size(); ++k) {
            b.append_int(cf, fr.frame[k]);
            b.append_double(cx, fr.x[k]);
            b.append_double(cy, fr.y[k]);
            b.append_int(ci, fr.id);
        }
    OwnedPacket in;
    in.p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&in.p.schema, &in.p.array);
    ASSERT_EQ(node.process(0, in.p), SPOTFLOW_OK);
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    const auto t = node.emitted.at(0)->table();
    for (int64_t r = 0; r < t.rows(); ++r) EXPECT_EQ(t.get_int(t.require("track_id"), r), 0);
    const auto s = node.emitted.at(1)->table();
    EXPECT_EQ(s.get_string(0, 0), "before");
    EXPECT_EQ(s.get_int(s.require("n_tracks"), 0), 2);
    EXPECT_EQ(s.get_int(s.require("n_tracks"), 1), 1);
    EXPECT_DOUBLE_EQ(s.get_double(s.require("mean_track_length"), 1), 20.0);
}

} // namespace
