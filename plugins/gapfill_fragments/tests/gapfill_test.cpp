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

// The birth test. Fragment 0 ends at frame 9; fragment 1 starts 21 frames
// later 7.2 px away across the drift (Brownian cost 2 d^2 / (s^2 dt) = 8,
// s^2 = 0.61 px^2 from the pieces' steps: inside the gate 13.8); fragment 2
// continues fragment 3 after a 2-frame gap 1 px away. Two long fragments
// far apart set the area to 500 x 500 px over 41 frames. With 2 starts
// after frame 0 (fewer than 20) the density is not learnt and both joins
// are taken; with 30 more starts it is 32 / (501 501.6 41) = 3.1e-6 and both
// still are; with 400 more starts (far from these ends) it is ~4e-5, and the
// continuation density of the long join, e^-4 / (pi 0.61 21) / 41 = 2e-5,
// loses to it: refused, while the short join stays. birth_test false joins
// both whatever the density.
std::vector<Fragment> birth_case(int extra_starts) {
    std::vector<Fragment> f = {piece(0, 0, 9, 100, 100), piece(1, 31, 40, 104.5, 107.2), piece(2, 12, 20, 206, 101),
                               piece(3, 0, 9, 200, 100), piece(4, 0, 40, 0, 0), piece(5, 0, 40, 480, 500)};
    f[1].y.assign(f[1].y.size(), 107.2);
    f[1].x.assign(f[1].x.size(), 104.5);
    for (int k = 0; k < extra_starts; ++k)
        f.push_back(piece(10 + k, 1 + k % 39, 40, 300 + 8 * (k % 20), 300 + 8 * (k / 20)));
    return f;
}

TEST(GapFill, BirthTestRefusesALongFarJoinOnlyWhereBirthsAreDense) {
    const auto sparse = birth_case(0);
    EXPECT_EQ(start_density(sparse), 0.0);
    auto next = join(sparse, {});
    EXPECT_EQ(next[0], 1);
    EXPECT_EQ(next[3], 2);
    const auto some = birth_case(30);
    EXPECT_NEAR(start_density(some), 32.0 / (501.0 * 501.6 * 41.0), 1e-9); // x 0..500, y -0.3..500.3
    next = join(some, {});
    EXPECT_EQ(next[0], 1);
    EXPECT_EQ(next[3], 2);
    const auto dense = birth_case(400);
    EXPECT_GT(start_density(dense), 3e-5);
    next = join(dense, {});
    EXPECT_EQ(next[0], -1);
    EXPECT_EQ(next[3], 2);
    Options off;
    off.birth_test = false;
    next = join(dense, off);
    EXPECT_EQ(next[0], 1);
    EXPECT_EQ(next[3], 2);
}

// A punctum moving steadily at 1.2 px per frame among slow ones: across an
// 8-frame blink it moves ~10 px, far beyond Brownian steps, but lands where
// its velocity says.
TEST(GapFill, JoinsDirectedMotionAcrossALongGapByItsVelocity) {
    const auto moving = [](int64_t id, int64_t from, int64_t to, double x0) {
        Fragment f{id, {}, {}, {}, std::nan("")};
        for (int64_t t = from; t <= to; ++t) {
            f.frame.push_back(t);
            f.x.push_back(x0 + 1.2 * static_cast<double>(t - from));
            f.y.push_back(50 + ((t % 2) ? 0.1 : -0.1));
        }
        return f;
    };
    const auto still = [](int64_t id, double x, double y) {
        Fragment f{id, {}, {}, {}, std::nan("")};
        for (int64_t t = 0; t <= 40; ++t) {
            f.frame.push_back(t);
            f.x.push_back(x + ((t % 2) ? 0.3 : -0.3));
            f.y.push_back(y + ((t % 3) ? 0.2 : -0.2));
        }
        return f;
    };
    // Ends at frame 10, x = 22; resumes at frame 19 where 1.2 px/frame puts it.
    const std::vector<Fragment> f = {moving(1, 0, 10, 10), moving(2, 19, 30, 10 + 1.2 * 19), still(3, 80, 80),
                                     still(4, 120, 30), still(5, 30, 120), still(6, 150, 150)};
    Options o;
    EXPECT_EQ(join(f, o)[0], 1);
    o.directed = false; // the Brownian cost alone refuses a 10.8 px jump in 9 frames
    EXPECT_EQ(join(f, o)[0], -1);
}

TEST(GapFillPlugin, FillsGapsWithInterpolatedPointsWhenAsked) {
    using namespace spotflow::testing;
    PluginLibrary lib(PLUGIN_PATH);
    FakeHost host;
    NodeRunner node(lib.plugin("gapfill.fragments"), host,
                    R"({"max_gap": 40, "max_distance": 100, "gate": 13.8, "step_variance": 0, "fill_gaps": "linear",
                        "velocity_weight": 0, "velocity_points": 5, "intensity_weight": 0, "figure": ""})");
    ASSERT_TRUE(node.created()) << host.error;
    spotflow::TableBuilder b;
    const auto cf = b.add_column("frame", spotflow::ColumnType::Int64), cx = b.add_column("x", spotflow::ColumnType::Float64),
               cy = b.add_column("y", spotflow::ColumnType::Float64), ci = b.add_column("track_id", spotflow::ColumnType::Int64),
               cp = b.add_column("photons", spotflow::ColumnType::Float64);
    for (const auto& fr : {piece(7, 0, 9, 10, 10), piece(9, 15, 24, 17.5, 10)})
        for (size_t k = 0; k < fr.frame.size(); ++k) {
            b.append_int(cf, fr.frame[k]);
            b.append_double(cx, fr.x[k]);
            b.append_double(cy, fr.y[k]);
            b.append_int(ci, fr.id);
            b.append_double(cp, 1000);
        }
    OwnedPacket in;
    in.p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&in.p.schema, &in.p.array);
    ASSERT_EQ(node.process(0, in.p), SPOTFLOW_OK);
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    const auto t = node.emitted.at(0)->table();
    ASSERT_EQ(t.rows(), 25); // frames 0..24, 10..14 made up
    const auto f = t.require("frame"), x = t.require("x"), in_col = t.require("interpolated"), ph = t.require("photons");
    for (int64_t r = 0; r < t.rows(); ++r) {
        EXPECT_EQ(t.get_int(f, r), r); // in frame order
        const bool made = r >= 10 && r <= 14;
        EXPECT_EQ(t.get_int(in_col, r), made ? 1 : 0);
        EXPECT_EQ(t.is_null(ph, r), made); // no photons were measured there
    }
    // Between (frame 9, x 14.5) and (frame 15, x 17.5): frame 12 at x 16.
    EXPECT_DOUBLE_EQ(t.get_double(x, 12), 16.0);
    // The before/after summary counts detections, not made-up points.
    EXPECT_DOUBLE_EQ(node.emitted.at(1)->table().get_double(node.emitted.at(1)->table().require("mean_track_length"), 1), 20.0);
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
