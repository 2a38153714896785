#include <gtest/gtest.h>

#include "plugin_harness.hpp"
#include "runs.hpp"

using namespace calcium_probability;

namespace {

TEST(Runs, ThresholdRunsWithPeakAndMean) {
    const std::vector<int64_t> f{0, 1, 2, 3, 4, 5, 6, 7};
    const std::vector<double> p{0.1, 0.6, 0.9, 0.7, 0.2, 0.5, 0.4, 0.8};
    const auto runs = find_runs(f, p, {0.5, 1, 0});
    ASSERT_EQ(runs.size(), 3u);
    EXPECT_EQ(runs[0].onset, 1u);
    EXPECT_EQ(runs[0].peak, 2u);
    EXPECT_EQ(runs[0].end, 3u);
    EXPECT_EQ(runs[0].active_frames, 3);
    EXPECT_DOUBLE_EQ(runs[0].peak_probability, 0.9);
    EXPECT_NEAR(runs[0].mean_probability, (0.6 + 0.9 + 0.7) / 3, 1e-12);
    EXPECT_EQ(runs[1].onset, 5u); // p == threshold is active
    EXPECT_EQ(runs[1].end, 5u);
    EXPECT_EQ(runs[2].onset, 7u);
    // min_frames drops the two one-frame runs.
    EXPECT_EQ(find_runs(f, p, {0.5, 2, 0}).size(), 1u);
    // A one-frame dip bridged: frames 1..7 are one event with 5 active frames.
    const auto bridged = find_runs(f, p, {0.5, 1, 1});
    ASSERT_EQ(bridged.size(), 1u);
    EXPECT_EQ(bridged[0].onset, 1u);
    EXPECT_EQ(bridged[0].end, 7u);
    EXPECT_EQ(bridged[0].active_frames, 5);
}

TEST(Runs, AFrameTheTrackMissesIsAGap) {
    const std::vector<int64_t> f{3, 4, 6, 7};
    const std::vector<double> p{0.9, 0.9, 0.9, 0.9};
    EXPECT_EQ(find_runs(f, p, {0.5, 1, 0}).size(), 2u);
    EXPECT_EQ(find_runs(f, p, {0.5, 1, 1}).size(), 1u);
    EXPECT_TRUE(find_runs({}, {}, {}).empty());
}

using namespace spotflow::testing;

constexpr const char* kParams =
    R"({"probability_column": "calcium_probability", "threshold": 0.5, "min_frames": 1, "max_gap_frames": 0})";

void tracks(OwnedPacket& t, const std::vector<int64_t>& id, const std::vector<int64_t>& frame, const std::vector<double>& p,
            const char* column = "calcium_probability") {
    spotflow::TableBuilder b;
    const auto cf = b.add_column("frame", spotflow::ColumnType::Int64), cx = b.add_column("x", spotflow::ColumnType::Float64),
               cy = b.add_column("y", spotflow::ColumnType::Float64), ci = b.add_column("track_id", spotflow::ColumnType::Int64),
               cp = b.add_column(column, spotflow::ColumnType::Float64);
    for (size_t r = 0; r < id.size(); ++r) {
        b.append_int(cf, frame[r]);
        b.append_double(cx, 10.0 + static_cast<double>(frame[r]));
        b.append_double(cy, 5.0 * static_cast<double>(id[r]));
        b.append_int(ci, id[r]);
        b.append_double(cp, p[r]);
    }
    t.p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&t.p.schema, &t.p.array);
}

TEST(CalciumProbabilityPlugin, EventsPerTrackInFramesWithOnsetPosition) {
    PluginLibrary lib(PLUGIN_PATH);
    FakeHost host;
    NodeRunner node(lib.plugin("calcium.probability"), host, kParams);
    ASSERT_TRUE(node.created()) << host.error;
    // Track 2 given out of frame order; track 7 is never active.
    OwnedPacket t;
    tracks(t, {2, 2, 2, 2, 7, 7}, {12, 10, 11, 13, 0, 1}, {0.2, 0.3, 0.8, 0.6, 0.1, 0.4});
    ASSERT_EQ(node.process(0, t.p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.emitted.size(), 1u);
    const auto e = node.emitted[0]->table();
    ASSERT_EQ(e.rows(), 2); // frames 11 (p 0.8) and 13 (p 0.6), frame 12 (p 0.2) between
    EXPECT_EQ(e.get_int(e.require("onset_frame"), 1), 13);
    EXPECT_DOUBLE_EQ(e.get_double(e.require("probability"), 1), 0.6);
    EXPECT_EQ(e.get_int(e.require("track_id"), 0), 2);
    EXPECT_EQ(e.get_int(e.require("onset_frame"), 0), 11);
    EXPECT_EQ(e.get_int(e.require("peak_frame"), 0), 11);
    EXPECT_EQ(e.get_int(e.require("end_frame"), 0), 11);
    EXPECT_DOUBLE_EQ(e.get_double(e.require("x"), 0), 21.0);
    EXPECT_DOUBLE_EQ(e.get_double(e.require("y"), 0), 10.0);
    EXPECT_DOUBLE_EQ(e.get_double(e.require("probability"), 0), 0.8);
}

TEST(CalciumProbabilityPlugin, MissingColumnOrNonProbabilityIsOneErrorAndNoOutput) {
    PluginLibrary lib(PLUGIN_PATH);
    {
        FakeHost host;
        NodeRunner node(lib.plugin("calcium.probability"), host, kParams);
        OwnedPacket t;
        tracks(t, {1}, {0}, {0.5}, "activity");
        ASSERT_EQ(node.process(0, t.p), SPOTFLOW_OK) << host.error;
        EXPECT_NE(node.finish(), SPOTFLOW_OK);
        EXPECT_NE(host.error.find("no column 'calcium_probability'"), std::string::npos) << host.error;
        EXPECT_TRUE(node.emitted.empty());
    }
    {
        FakeHost host;
        NodeRunner node(lib.plugin("calcium.probability"), host, kParams);
        OwnedPacket t;
        tracks(t, {1, 1}, {0, 1}, {0.5, 1.5});
        ASSERT_EQ(node.process(0, t.p), SPOTFLOW_OK) << host.error;
        EXPECT_NE(node.finish(), SPOTFLOW_OK);
        EXPECT_NE(host.error.find("track 1, frame 1"), std::string::npos) << host.error;
        EXPECT_TRUE(node.emitted.empty());
    }
}

} // namespace
