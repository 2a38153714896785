#include <gtest/gtest.h>

#include <cmath>

#include "metrics.hpp"
#include "plugin_harness.hpp"
#include "tracks_table.hpp"

using namespace spotflow::testing;
using spotflow::tables::TableAccumulator;

namespace {

using Row = spotflow::testing::TrackPoint; // frame, x, y, track


TableAccumulator accumulate(const std::vector<Row>& rows) {
    TableAccumulator a;
    const auto p = spotflow::testing::tracks_packet(rows);
    a.append(p->p.schema, p->p.array);
    return a;
}

double metric(const tracks_metrics::TrackMetrics& m, const std::string& name) {
    const auto& n = tracks_metrics::metric_names();
    return m.values[static_cast<size_t>(std::find(n.begin(), n.end(), name) - n.begin())];
}

// A straight track at 1 px per frame, frames 0..9 without frame 4: every
// metric by hand. MSD(tau) = tau^2: alpha 2; over lags 1..4 the line
// through (1,1), (2,4), (3,9), (4,16) has slope 5, so D = 5/4.
TEST(TracksMetrics, AStraightTrackByHand) {
    std::vector<Row> rows;
    for (int64_t f = 0; f < 10; ++f)
        if (f != 4) rows.push_back({f, 10.0 + static_cast<double>(f), 20.0, 7});
    rows.push_back({3, 12.0, 22.0, 8}); // another track 2 px away in one frame
    tracks_metrics::Settings s;
    s.width = 100;
    s.height = 100;
    const auto m = tracks_metrics::compute_metrics(accumulate(rows), s);
    ASSERT_EQ(m.size(), 2u);
    const auto& t = m[0];
    EXPECT_EQ(t.track_id, 7);
    EXPECT_EQ(metric(t, "length"), 9);
    EXPECT_EQ(metric(t, "span"), 10);
    EXPECT_EQ(metric(t, "gap_count"), 1);
    EXPECT_DOUBLE_EQ(metric(t, "gap_fraction"), 0.1);
    EXPECT_DOUBLE_EQ(metric(t, "step_mean"), 1.0);
    EXPECT_DOUBLE_EQ(metric(t, "step_sd"), 0.0);
    EXPECT_DOUBLE_EQ(metric(t, "straightness"), 1.0);
    EXPECT_NEAR(metric(t, "msd_alpha"), 2.0, 1e-12);
    EXPECT_NEAR(metric(t, "msd_diffusion"), 1.25, 1e-12);
    EXPECT_DOUBLE_EQ(metric(t, "border_distance"), 10.5);
    EXPECT_DOUBLE_EQ(metric(t, "local_density"), 1.0 / 9.0); // track 8 within 5 px in frame 3
    EXPECT_TRUE(std::isnan(metric(t, "photons_mean")));      // no photons column
    // Track 8 (frame 3) ends 2.83 px from track 7's start? No: it lies after
    // 7 starts; 7 has no neighbour end before frame 0 and none after frame 9.
    EXPECT_DOUBLE_EQ(metric(t, "break_distance_before"), 10);
    EXPECT_DOUBLE_EQ(metric(t, "fragment_share"), 1);
    EXPECT_EQ(metric(m[1], "length"), 1);
    EXPECT_TRUE(std::isnan(metric(m[1], "msd_alpha")));
}

// Truth: one track, frames 0..9. Tracks: 1 follows it over 0..6, 2 over
// 7..9 (a fragment), 3 is far away. Paired: only 1 is good; majority: 1 and 2.
TEST(TracksMetrics, LabelsWithEvalTracksPairing) {
    std::vector<Row> truth, tracks;
    for (int64_t f = 0; f < 10; ++f) {
        truth.push_back({f, 30.0 + static_cast<double>(f), 30.0, 100});
        tracks.push_back({f, 30.2 + static_cast<double>(f), 30.0, f < 7 ? 1 : 2});
        tracks.push_back({f, 80.0, 80.0, 3});
    }
    const auto paired = tracks_metrics::label_tracks(accumulate(tracks), accumulate(truth), 5, 0.5, "paired");
    ASSERT_EQ(paired.size(), 3u);
    EXPECT_EQ(paired[0].label, "good");
    EXPECT_EQ(paired[0].truth_track_id, 100);
    EXPECT_DOUBLE_EQ(paired[0].matched_fraction, 1.0);
    EXPECT_EQ(paired[1].label, "bad");
    EXPECT_EQ(paired[2].label, "bad");
    // Track 2 starts 1 px and 1 frame after track 1 ends: a break.
    tracks_metrics::Settings st;
    const auto m = tracks_metrics::compute_metrics(accumulate(tracks), st);
    EXPECT_NEAR(metric(m[1], "break_distance_before"), 1.0, 1e-12);
    EXPECT_NEAR(metric(m[0], "break_distance_after"), 1.0, 1e-12);
    EXPECT_DOUBLE_EQ(metric(m[1], "fragment_share"), 3.0 / 10);
    EXPECT_DOUBLE_EQ(metric(m[2], "break_distance_before"), 10);
    const auto majority = tracks_metrics::label_tracks(accumulate(tracks), accumulate(truth), 5, 0.5, "majority");
    EXPECT_EQ(majority[0].label, "good");
    EXPECT_EQ(majority[1].label, "good");
    EXPECT_EQ(majority[2].label, "bad");
}

TEST(TracksMetrics, PluginEmitsMetricsAndLabels) {
    FakeHost host;
    PluginLibrary lib(PLUGIN_PATH);
    NodeRunner node(lib.plugin("tracks.metrics"), host,
                    R"({"max_lag": 10, "diffusion_lags": 4, "density_radius_px": 5, "width": 0, "height": 0, "break_radius_px": 10, "break_frames": 10,
                        "gate_px": 5, "min_fraction": 0.5, "label_rule": "paired"})");
    ASSERT_TRUE(node.created()) << host.error;
    std::vector<Row> rows = {{0, 1, 1, 5}, {1, 2, 1, 5}, {2, 3, 1, 5}};
    ASSERT_EQ(node.process(0, spotflow::testing::tracks_packet(rows)->p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.process(1, spotflow::testing::tracks_packet(rows)->p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.emitted.size(), 2u);
    const TableView m = node.emitted[0]->table();
    EXPECT_EQ(m.rows(), 1);
    EXPECT_EQ(m.columns(), 1 + static_cast<int64_t>(tracks_metrics::metric_names().size()));
    const TableView l = node.emitted[1]->table();
    ASSERT_EQ(l.rows(), 1);
    EXPECT_EQ(l.get_string(l.require("label"), 0), "good");
}

TEST(TracksMetrics, TwoPointsOfATrackInOneFrameAreAnError) {
    FakeHost host;
    PluginLibrary lib(PLUGIN_PATH);
    NodeRunner node(lib.plugin("tracks.metrics"), host,
                    R"({"max_lag": 10, "diffusion_lags": 4, "density_radius_px": 5, "width": 0, "height": 0, "break_radius_px": 10, "break_frames": 10,
                        "gate_px": 5, "min_fraction": 0.5, "label_rule": "paired"})");
    ASSERT_EQ(node.process(0, spotflow::testing::tracks_packet({{0, 1, 1, 5}, {0, 2, 1, 5}})->p), SPOTFLOW_OK);
    EXPECT_NE(node.finish(), SPOTFLOW_OK);
    EXPECT_EQ(host.error, "tracks: track 5 has two points in frame 0");
}

} // namespace
