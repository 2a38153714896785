// eval.calcium: the measures on hand-computed cases, then the plugin through
// its ABI (a whole run, and bad input failing with one line).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "calcium_metrics.hpp"
#include "plugin_harness.hpp"
#include "plugin_params.hpp"

namespace {

using namespace eval_calcium;

// One true track, id 1, at (10, 10) in frames 0..29.
Points one_track(int64_t frames = 30) {
    Points p;
    for (int64_t f = 0; f < frames; ++f) {
        p.frame.push_back(f);
        p.track_id.push_back(1);
        p.x.push_back(10);
        p.y.push_back(10);
    }
    return p;
}

// Onset 10, peak 12, amplitude 1, decay 8: dF/F0 0 at 10, 0.5 at 11, 1 at
// 12, exp(-5/8) = 0.535 at 17, exp(-6/8) = 0.472 at 18: active (half
// maximum) in frames 11..17, 7 frames.
const TrueEvent kEvent{1, 10, 12, -1, 1.0, 8.0};

TEST(Measures, TrueTransientFollowsTheSimulatorsShape) {
    EXPECT_DOUBLE_EQ(true_dff(kEvent, 9), 0.0);
    EXPECT_DOUBLE_EQ(true_dff(kEvent, 10), 0.0);
    EXPECT_DOUBLE_EQ(true_dff(kEvent, 11), 0.5);
    EXPECT_DOUBLE_EQ(true_dff(kEvent, 12), 1.0);
    EXPECT_NEAR(true_dff(kEvent, 17), std::exp(-5.0 / 8), 1e-12);
    int64_t active = 0;
    for (int64_t f = 0; f < 30; ++f) active += true_active(kEvent, f, 0.5);
    EXPECT_EQ(active, 7);
    EXPECT_FALSE(true_active(kEvent, 10, 0.5));
    EXPECT_TRUE(true_active(kEvent, 11, 0.5));
    EXPECT_TRUE(true_active(kEvent, 17, 0.5));
    EXPECT_FALSE(true_active(kEvent, 18, 0.5));
    // Without a shape: onset..end (or peak).
    const TrueEvent box{1, 3, 4, 6, NAN, NAN};
    EXPECT_TRUE(true_active(box, 6, 0.5));
    EXPECT_FALSE(true_active(box, 7, 0.5));
}

TEST(Measures, PerfectWindowScoresOne) {
    const auto c = classify(one_track(), {kEvent}, {{11, 17, 10.5, 10, 0.9}}, {});
    EXPECT_EQ(c.tp, 7);
    EXPECT_EQ(c.fp, 0);
    EXPECT_EQ(c.fn, 0);
    EXPECT_EQ(c.tn, 23);
    EXPECT_DOUBLE_EQ(c.f1, 1.0);
    EXPECT_DOUBLE_EQ(c.sensitivity, 1.0);
    EXPECT_DOUBLE_EQ(c.specificity, 1.0);
    EXPECT_EQ(c.owner[0], 1);
}

// Called 13..20 against active 11..17: TP 13..17 = 5, FN 11, 12 = 2, FP 18..20
// = 3, TN 30 - 10 = 20; plus a detection far from any punctum, 3 frames long:
// 3 more FP.
TEST(Measures, ShiftedWindowAndASpuriousEvent) {
    const auto c = classify(one_track(), {kEvent}, {{13, 20, 10, 11, 1}, {5, 7, 50, 50, 1}}, {});
    EXPECT_EQ(c.tp, 5);
    EXPECT_EQ(c.fn, 2);
    EXPECT_EQ(c.fp, 6);
    EXPECT_EQ(c.spurious_frames, 3);
    EXPECT_EQ(c.tn, 20);
    EXPECT_DOUBLE_EQ(c.sensitivity, 5.0 / 7);
    EXPECT_DOUBLE_EQ(c.specificity, 20.0 / 26);
    EXPECT_DOUBLE_EQ(c.precision, 5.0 / 11);
    EXPECT_DOUBLE_EQ(c.f1, 10.0 / 18);
    EXPECT_DOUBLE_EQ(c.iou, 5.0 / 13);
    EXPECT_EQ(c.owner[1], kNoOwner);
}

TEST(Measures, NoDetectionsAndNoEvents) {
    const auto none = classify(one_track(), {kEvent}, {}, {});
    EXPECT_EQ(none.fn, 7);
    EXPECT_DOUBLE_EQ(none.sensitivity, 0.0);
    EXPECT_DOUBLE_EQ(none.specificity, 1.0);
    EXPECT_DOUBLE_EQ(none.f1, 0.0);
    const auto quiet = classify(one_track(), {}, {}, {});
    EXPECT_TRUE(std::isnan(quiet.sensitivity)); // no positives: undefined, not 0 or 1
    EXPECT_TRUE(std::isnan(quiet.f1));
    EXPECT_DOUBLE_EQ(quiet.specificity, 1.0);
}

TEST(Measures, PearsonKnownValues) {
    EXPECT_NEAR(pearson({1, 2, 3}, {1, 2, 4}), 3 / std::sqrt(2 * 42.0 / 9), 1e-12);
    EXPECT_NEAR(pearson({1, 2, 3}, {-2, -4, -6}), -1.0, 1e-12);
    EXPECT_TRUE(std::isnan(pearson({1, 1, 1}, {1, 2, 3})));
    EXPECT_TRUE(std::isnan(pearson({1, 2}, {1, 2})));
}

TEST(Measures, CorrelationPerPunctum) {
    const Points t = one_track();
    std::vector<double> scaled, window;
    for (int64_t f = 0; f < 30; ++f) scaled.push_back(0.3 * true_dff(kEvent, f));
    const auto c = correlate(t, {kEvent}, scaled);
    EXPECT_NEAR(c.mean_r, 1.0, 1e-12);
    EXPECT_EQ(c.puncta, 1);
    // The events' activity: probability 0.8 over 11..17, else 0.
    const auto a = activity_from_events(t, {{11, 17, 10, 10, 0.8}}, {1});
    EXPECT_DOUBLE_EQ(a[11], 0.8);
    EXPECT_DOUBLE_EQ(a[18], 0.0);
    std::vector<double> truth;
    for (int64_t f = 0; f < 30; ++f) truth.push_back(true_dff(kEvent, f));
    EXPECT_NEAR(correlate(t, {kEvent}, a).mean_r, pearson(truth, a), 1e-12);
    // A punctum without events has no correlation (constant truth).
    EXPECT_EQ(correlate(t, {}, a).puncta, 0);
    EXPECT_TRUE(std::isnan(correlate(t, {}, a).mean_r));
}

// True track 1 (frames 0..9 at (5, 5)): predicted A covers 0..5, B 7..9: the
// best covers 6 of 10. True track 2 (frames 0..4 at (20, 20)): nothing. Mean 0.3.
TEST(Measures, TrackCompleteness) {
    Points t, p;
    for (int64_t f = 0; f < 10; ++f) t.frame.push_back(f), t.track_id.push_back(1), t.x.push_back(5), t.y.push_back(5);
    for (int64_t f = 0; f < 5; ++f) t.frame.push_back(f), t.track_id.push_back(2), t.x.push_back(20), t.y.push_back(20);
    for (int64_t f = 0; f <= 5; ++f) p.frame.push_back(f), p.track_id.push_back(100), p.x.push_back(5.2), p.y.push_back(5);
    for (int64_t f = 7; f <= 9; ++f) p.frame.push_back(f), p.track_id.push_back(200), p.x.push_back(5), p.y.push_back(4.9);
    const auto c = track_completeness(t, p, 3.0);
    ASSERT_EQ(c.fraction.size(), 2u);
    EXPECT_DOUBLE_EQ(c.fraction[0], 0.6);
    EXPECT_DOUBLE_EQ(c.fraction[1], 0.0);
    EXPECT_DOUBLE_EQ(c.mean, 0.3);
}

// ---- the plugin ----

using namespace spotflow::testing;

double D(const TableView& t, const char* name) { return t.get_double(t.require(name), 0); }
int64_t I(const TableView& t, const char* name) { return t.get_int(t.require(name), 0); }

spotflow_packet tracks_packet(const Points& t) {
    TableBuilder b;
    const auto f = b.add_column("frame", ColumnType::Int64), x = b.add_column("x", ColumnType::Float64),
               y = b.add_column("y", ColumnType::Float64), id = b.add_column("track_id", ColumnType::Int64);
    for (size_t r = 0; r < t.size(); ++r) {
        b.append_int(f, t.frame[r]);
        b.append_double(x, t.x[r]);
        b.append_double(y, t.y[r]);
        b.append_int(id, t.track_id[r]);
    }
    spotflow_packet p{};
    p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&p.schema, &p.array);
    return p;
}

spotflow_packet true_events_packet(int64_t track_id) {
    TableBuilder b;
    const auto id = b.add_column("track_id", ColumnType::Int64), on = b.add_column("onset_frame", ColumnType::Int64),
               pk = b.add_column("peak_frame", ColumnType::Int64), a = b.add_column("amplitude_dff", ColumnType::Float64),
               d = b.add_column("decay_frames", ColumnType::Float64);
    b.append_int(id, track_id);
    b.append_int(on, 10);
    b.append_int(pk, 12);
    b.append_double(a, 1.0);
    b.append_double(d, 8.0);
    spotflow_packet p{};
    p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&p.schema, &p.array);
    return p;
}

spotflow_packet events_packet(double x, double probability = 0.9) {
    TableBuilder b;
    const auto on = b.add_column("onset_frame", ColumnType::Int64), pk = b.add_column("peak_frame", ColumnType::Int64),
               en = b.add_column("end_frame", ColumnType::Int64), xc = b.add_column("x", ColumnType::Float64),
               yc = b.add_column("y", ColumnType::Float64), pr = b.add_column("probability", ColumnType::Float64);
    b.append_int(on, 11);
    b.append_int(pk, 12);
    b.append_int(en, 17);
    b.append_double(xc, x);
    b.append_double(yc, 10);
    b.append_double(pr, probability);
    spotflow_packet p{};
    p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&p.schema, &p.array);
    return p;
}

class Plugin : public ::testing::Test {
protected:
    PluginLibrary lib{PLUGIN_PATH};
    const spotflow_plugin_desc& desc = lib.plugin("eval.calcium");
    FakeHost host;
    std::string params = params_with_defaults(desc, nlohmann::json::object()).dump();
    // Process a packet; the harness owns nothing of it, so release it here.
    spotflow_status feed(NodeRunner& n, int32_t port, spotflow_packet p) {
        const auto s = n.process(port, p);
        spotflow::release_table(&p.schema, &p.array);
        return s;
    }
};

TEST_F(Plugin, AWholeRunScoresEverything) {
    host.input_counts = {1, 1, 1, 1, 0}; // tracks connected, activity not
    NodeRunner n(desc, host, params);
    ASSERT_TRUE(n.created()) << host.error;
    ASSERT_EQ(feed(n, 0, events_packet(10.5)), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(feed(n, 1, true_events_packet(1)), SPOTFLOW_OK);
    ASSERT_EQ(feed(n, 2, tracks_packet(one_track())), SPOTFLOW_OK);
    Points pred = one_track(20); // the linker followed the punctum for 20 of its 30 frames
    for (auto& id : pred.track_id) id = 77;
    ASSERT_EQ(feed(n, 3, tracks_packet(pred)), SPOTFLOW_OK);
    ASSERT_EQ(n.finish(), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(n.emitted.size(), 2u);
    const TableView m = n.emitted[0]->table();
    EXPECT_DOUBLE_EQ(D(m, "f1"), 1.0);
    EXPECT_DOUBLE_EQ(D(m, "sensitivity"), 1.0);
    EXPECT_DOUBLE_EQ(D(m, "specificity"), 1.0);
    EXPECT_DOUBLE_EQ(D(m, "event_f1"), 1.0);
    EXPECT_DOUBLE_EQ(D(m, "mean_onset_error_frames"), 1.0);
    EXPECT_NEAR(D(m, "colocalisation_error_nm"), 0.5 * 108, 1e-9);
    EXPECT_NEAR(D(m, "track_completeness"), 20.0 / 30, 1e-12);
    EXPECT_GT(D(m, "correlation"), 0.8); // a box against the transient's shape
    EXPECT_EQ(I(m, "correlation_puncta"), 1);
    const TableView pp = n.emitted[1]->table();
    EXPECT_EQ(I(pp, "track_id"), 1);
    EXPECT_EQ(I(pp, "true_events"), 1);
}

TEST_F(Plugin, ActivityFromDetectionsGivesTheCorrelation) {
    host.input_counts = {1, 1, 1, 0, 1};
    NodeRunner n(desc, host, params);
    ASSERT_EQ(feed(n, 0, events_packet(10.5)), SPOTFLOW_OK);
    ASSERT_EQ(feed(n, 1, true_events_packet(1)), SPOTFLOW_OK);
    ASSERT_EQ(feed(n, 2, tracks_packet(one_track())), SPOTFLOW_OK);
    // Detections whose calcium_probability is the true dF/F0 / 2: r = 1.
    TableBuilder b;
    const auto f = b.add_column("frame", ColumnType::Int64), x = b.add_column("x", ColumnType::Float64),
               y = b.add_column("y", ColumnType::Float64), c = b.add_column("calcium_probability", ColumnType::Float64);
    for (int64_t k = 0; k < 30; ++k) {
        b.append_int(f, k);
        b.append_double(x, 10.2);
        b.append_double(y, 10);
        b.append_double(c, 0.5 * true_dff(kEvent, k));
    }
    spotflow_packet p{};
    p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&p.schema, &p.array);
    ASSERT_EQ(feed(n, 4, p), SPOTFLOW_OK);
    ASSERT_EQ(n.finish(), SPOTFLOW_OK) << host.error;
    const TableView m = n.emitted[0]->table();
    EXPECT_NEAR(D(m, "correlation"), 1.0, 1e-9);
    EXPECT_TRUE(std::isnan(D(m, "track_completeness"))); // no tracks connected
}

TEST_F(Plugin, BadInputFailsWithOneLine) {
    {
        NodeRunner n(desc, host, params);
        ASSERT_EQ(feed(n, 0, events_packet(10.5)), SPOTFLOW_OK);
        ASSERT_EQ(feed(n, 1, true_events_packet(7)), SPOTFLOW_OK);
        ASSERT_EQ(feed(n, 2, tracks_packet(one_track())), SPOTFLOW_OK);
        EXPECT_EQ(n.finish(), SPOTFLOW_ERR_INVALID_ARGUMENT);
        EXPECT_NE(host.error.find("truth_events: row 0: track_id 7 is not a track of truth"), std::string::npos) << host.error;
        EXPECT_TRUE(n.emitted.empty());
    }
    {
        NodeRunner n(desc, host, params);
        ASSERT_EQ(feed(n, 0, events_packet(10.5, 1.5)), SPOTFLOW_OK);
        ASSERT_EQ(feed(n, 1, true_events_packet(1)), SPOTFLOW_OK);
        ASSERT_EQ(feed(n, 2, tracks_packet(one_track())), SPOTFLOW_OK);
        EXPECT_EQ(n.finish(), SPOTFLOW_ERR_INVALID_ARGUMENT);
        EXPECT_NE(host.error.find("events: row 0: probability 1.5"), std::string::npos) << host.error;
    }
    {
        NodeRunner n(desc, host, params);
        ASSERT_EQ(feed(n, 1, true_events_packet(1)), SPOTFLOW_OK);
        EXPECT_EQ(n.finish(), SPOTFLOW_ERR_INVALID_ARGUMENT);
        EXPECT_NE(host.error.find("truth: no true points"), std::string::npos) << host.error;
    }
    {
        NodeRunner n(desc, host, params);
        TableBuilder b; // truth without y
        const auto f = b.add_column("frame", ColumnType::Int64), x = b.add_column("x", ColumnType::Float64),
                   id = b.add_column("track_id", ColumnType::Int64);
        b.append_int(f, 0);
        b.append_double(x, 1);
        b.append_int(id, 1);
        spotflow_packet p{};
        p.kind = SPOTFLOW_DATA_TABLE;
        b.finish(&p.schema, &p.array);
        ASSERT_EQ(feed(n, 2, p), SPOTFLOW_OK);
        EXPECT_EQ(n.finish(), SPOTFLOW_ERR_INVALID_ARGUMENT);
        EXPECT_NE(host.error.find("truth: "), std::string::npos) << host.error;
        EXPECT_NE(host.error.find("'y'"), std::string::npos) << host.error;
    }
}

} // namespace
