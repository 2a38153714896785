#include <gtest/gtest.h>

#include <set>

#include "lap_linker.hpp"
#include "plugin_harness.hpp"

using namespace link_lap;

namespace {

TEST(LinkLap, LinksTheCrossingParticlesThatGreedyLinkingSwaps) {
    // A: (0,0) -> (2,0); B: (3,0) -> (4.9,0). Greedy takes B -> A' (1 px)
    // first; the global optimum of squared distances keeps A and B apart
    // (4 + 3.61 < 1 + 24.01).
    Options o;
    o.max_gap = 0;
    const auto r = link({0, 0, 1, 1}, {0, 3, 2, 4.9}, {0, 0, 0, 0}, o);
    EXPECT_EQ(r.track[2], r.track[0]);
    EXPECT_EQ(r.track[3], r.track[1]);
    EXPECT_NE(r.track[0], r.track[1]);
}

// One particle at x = 10 + 0.3 t seen in frames 0..4 and 8..12: a blink of
// 3 frames (5, 6, 7), and a second particle far away all along.
struct Blink {
    std::vector<int64_t> f;
    std::vector<double> x, y;
    Blink() {
        for (int t = 0; t < 13; ++t) {
            if (t < 5 || t > 7) {
                f.push_back(t);
                x.push_back(10 + 0.3 * t);
                y.push_back(10);
            }
            f.push_back(t);
            x.push_back(40);
            y.push_back(40 + 0.2 * t);
        }
    }
};

TEST(LinkLap, GapClosingJoinsAThreeFrameBlink) {
    Blink b;
    Options o;
    o.max_gap = 3;
    const auto r = link(b.f, b.x, b.y, o);
    EXPECT_EQ(r.gap_closures, 1);
    std::set<int64_t> ids_of_first;
    for (size_t i = 0; i < b.f.size(); ++i)
        if (b.y[i] == 10) ids_of_first.insert(r.track[i]);
    EXPECT_EQ(ids_of_first.size(), 1u);
}

TEST(LinkLap, GapClosingRefusesAGapLongerThanMaxGap) {
    Blink b;
    Options o;
    o.max_gap = 2;
    const auto r = link(b.f, b.x, b.y, o);
    EXPECT_EQ(r.gap_closures, 0);
    std::set<int64_t> ids_of_first;
    for (size_t i = 0; i < b.f.size(); ++i)
        if (b.y[i] == 10) ids_of_first.insert(r.track[i]);
    EXPECT_EQ(ids_of_first.size(), 2u);
}

TEST(LinkLap, CutoffAlternativeKeepsAFastParticleThatThePercentileRuleDrops) {
    // Nine slow particles (0.1 px/frame) and one fast (3 px/frame) over two
    // frames: the fast link's cost (9) is far above the 90th percentile of
    // the costs, so TrackMate's rule leaves it unlinked; inside the 5 px gate
    // the cutoff rule links it.
    std::vector<int64_t> f;
    std::vector<double> x, y;
    for (int t = 0; t < 2; ++t)
        for (int i = 0; i < 10; ++i) {
            f.push_back(t);
            x.push_back(20.0 * i + (i == 9 ? 3.0 * t : 0.1 * t));
            y.push_back(10);
        }
    Options o;
    o.max_gap = 0;
    EXPECT_EQ(link(f, x, y, o).track[19], link(f, x, y, o).track[9]);
    o.percentile_alternative = true;
    EXPECT_NE(link(f, x, y, o).track[19], link(f, x, y, o).track[9]);
}

TEST(LinkLap, IdsFollowFirstAppearanceAndFarJumpsAreNotLinked) {
    Options o;
    o.max_gap = 0;
    const auto r = link({0, 1, 2, 3}, {5, 5.5, 30, 30.4}, {5, 5, 5, 5}, o);
    EXPECT_EQ(r.track, (std::vector<int64_t>{0, 0, 1, 1}));
}

TEST(LinkLap, PluginKeepsColumnsAndAddsTrackIds) {
    spotflow::testing::PluginLibrary lib(PLUGIN_PATH);
    spotflow::testing::FakeHost host;
    spotflow::testing::NodeRunner node(lib.plugin("link.lap"), host,
                                       R"({"max_distance": 5.0, "max_gap": 2, "max_gap_distance": 7.0, "alternative_cost": "cutoff",
                                           "alternative_cost_factor": 1.05, "cutoff_percentile": 0.9})");
    ASSERT_TRUE(node.created()) << host.error;
    spotflow::TableBuilder b;
    const auto cf = b.add_column("frame", spotflow::ColumnType::Int64);
    const auto cx = b.add_column("x", spotflow::ColumnType::Float64);
    const auto cy = b.add_column("y", spotflow::ColumnType::Float64);
    const auto cn = b.add_column("photons", spotflow::ColumnType::Float64);
    for (int t = 0; t < 4; ++t) {
        b.append_int(cf, t);
        b.append_double(cx, 3 + 0.5 * t);
        b.append_double(cy, 4);
        b.append_double(cn, 1000 + t);
    }
    spotflow::testing::OwnedPacket in;
    in.p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&in.p.schema, &in.p.array);
    ASSERT_EQ(node.process(0, in.p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    const auto t = node.emitted.at(0)->table();
    ASSERT_EQ(t.columns(), 5);
    EXPECT_EQ(t.get_double(t.require("photons"), 3), 1003);
    for (int r = 0; r < 4; ++r) EXPECT_EQ(t.get_int(t.require("track_id"), r), 0);
}

} // namespace
