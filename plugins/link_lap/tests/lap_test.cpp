#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>
#include <stdexcept>

#include "lap_linker.hpp"
#include "plugin_harness.hpp"

using namespace link_lap;

namespace {

// The plain Brownian model with the fixed gates of earlier versions.
Options brownian_fixed(int max_gap) {
    Options o;
    o.motion = Motion::Brownian;
    o.max_distance = 5.0;
    o.max_gap_distance = 7.0;
    o.max_gap = max_gap;
    return o;
}

TEST(LinkLap, LinksTheCrossingParticlesThatGreedyLinkingSwaps) {
    // A: (0,0) -> (2,0); B: (3,0) -> (4.9,0). Greedy takes B -> A' (1 px)
    // first; the global optimum of squared distances keeps A and B apart
    // (4 + 3.61 < 1 + 24.01).
    const Options o = brownian_fixed(0);
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
    const Options o = brownian_fixed(3);
    const auto r = link(b.f, b.x, b.y, o);
    EXPECT_EQ(r.gap_closures, 1);
    std::set<int64_t> ids_of_first;
    for (size_t i = 0; i < b.f.size(); ++i)
        if (b.y[i] == 10) ids_of_first.insert(r.track[i]);
    EXPECT_EQ(ids_of_first.size(), 1u);
}

TEST(LinkLap, GapClosingRefusesAGapLongerThanMaxGap) {
    Blink b;
    const Options o = brownian_fixed(2);
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
    Options o = brownian_fixed(0);
    EXPECT_EQ(link(f, x, y, o).track[19], link(f, x, y, o).track[9]);
    o.percentile_alternative = true;
    EXPECT_NE(link(f, x, y, o).track[19], link(f, x, y, o).track[9]);
}

TEST(LinkLap, IdsFollowFirstAppearanceAndFarJumpsAreNotLinked) {
    const Options o = brownian_fixed(0);
    const auto r = link({0, 1, 2, 3}, {5, 5.5, 30, 30.4}, {5, 5, 5, 5}, o);
    EXPECT_EQ(r.track, (std::vector<int64_t>{0, 0, 1, 1}));
}

// ---- Motion models ----------------------------------------------------------

// Two particles crossing at constant velocity: A along the diagonal, B along
// the anti-diagonal, 0.6 px apart at frame 5. From frame 5 to 6 each one's
// nearest successor is the other's (5.96 < 8 px^2), so squared distances
// swap them; the velocity each filter has learnt predicts the right one.
struct Crossing {
    std::vector<int64_t> f;
    std::vector<double> x, y;
    Crossing() {
        for (int t = 0; t <= 10; ++t) {
            f.push_back(t), x.push_back(2.0 * t), y.push_back(2.0 * t);          // A: row 2t
            f.push_back(t), x.push_back(2.0 * t), y.push_back(20.6 - 2.0 * t);   // B: row 2t + 1
        }
    }
    bool a_kept(const Result& r) const {
        for (int t = 1; t <= 10; ++t)
            if (r.track[static_cast<size_t>(2 * t)] != r.track[0]) return false;
        return true;
    }
};

TEST(LinkLapMotion, KalmanLinksAConstantVelocityCrossingThatBrownianSwaps) {
    Crossing c;
    Options o;
    o.max_gap = 0;
    o.motion = Motion::Brownian;
    const auto brown = link(c.f, c.x, c.y, o);
    EXPECT_FALSE(c.a_kept(brown));
    EXPECT_EQ(brown.track[12], brown.track[1]); // A's frame-6 point went to B's track

    o.motion = Motion::ConstantVelocity;
    const auto cv = link(c.f, c.x, c.y, o);
    EXPECT_TRUE(c.a_kept(cv));
    o.motion = Motion::Imm;
    const auto imm = link(c.f, c.x, c.y, o);
    EXPECT_TRUE(c.a_kept(imm));
    EXPECT_EQ(imm.links, 20);
}

// A particle moving 3 px/frame along y = 10, seen in frames 0..9 and 12..20
// (two frames missed), and a decoy that appears at frame 12 at (19, 11.5),
// next to where the particle was last seen (18, 10), and stays. Gap closing
// by distance joins the end to the decoy; the end's prediction over the gap
// (27, 10) joins it to the particle.
struct DirectedGap {
    std::vector<int64_t> f;
    std::vector<double> x, y;
    DirectedGap() {
        for (int t = 0; t <= 20; ++t) {
            if (t < 10 || t > 11) f.push_back(t), x.push_back(3.0 * t), y.push_back(10);
            if (t >= 12) f.push_back(t), x.push_back(19), y.push_back(11.5);
        }
    }
    int64_t particle_tracks(const Result& r) const {
        std::set<int64_t> ids;
        for (size_t i = 0; i < f.size(); ++i)
            if (y[i] == 10) ids.insert(r.track[i]);
        return static_cast<int64_t>(ids.size());
    }
};

TEST(LinkLapMotion, GapClosingFollowsThePredictedPosition) {
    DirectedGap g;
    Options o;
    o.max_gap = 2;
    o.motion = Motion::Brownian;
    const auto brown = link(g.f, g.x, g.y, o);
    EXPECT_EQ(brown.gap_closures, 1);
    EXPECT_EQ(g.particle_tracks(brown), 2); // the end went to the decoy
    o.motion = Motion::Imm;
    const auto imm = link(g.f, g.x, g.y, o);
    EXPECT_EQ(imm.gap_closures, 1);
    EXPECT_EQ(g.particle_tracks(imm), 1);
    // The decoy keeps a track of its own.
    EXPECT_NE(imm.track[g.f.size() - 1], imm.track[0]);
}

TEST(LinkLapMotion, DefaultsCloseAThreeFrameBlinkOnlyWithMaxGapThree) {
    Blink b;
    Options o;
    o.max_gap = 3;
    EXPECT_EQ(link(b.f, b.x, b.y, o).gap_closures, 1);
    o.max_gap = 2;
    EXPECT_EQ(link(b.f, b.x, b.y, o).gap_closures, 0);
}

// Walkers of known per-axis step sd 0.7 px, localised with sd 0.2 px, on a
// 30 px lattice (so neighbours never compete).
struct Walks {
    std::vector<int64_t> f;
    std::vector<double> x, y;
    int n = 0;
    Walks(double step_sd, double loc_sd, int frames = 50) {
        std::mt19937_64 rng(7);
        std::normal_distribution<double> step(0, step_sd), loc(0, loc_sd);
        std::vector<double> px, py;
        for (int i = 0; i < 15; ++i)
            for (int j = 0; j < 15; ++j) px.push_back(30.0 * i), py.push_back(30.0 * j);
        n = static_cast<int>(px.size());
        for (int t = 0; t < frames; ++t)
            for (int k = 0; k < n; ++k) {
                if (t > 0) px[k] += step(rng), py[k] += step(rng);
                f.push_back(t), x.push_back(px[k] + loc(rng)), y.push_back(py[k] + loc(rng));
            }
    }
};

TEST(LinkLapMotion, LearnsTheStepAndLocalisationScaleOfKnownWalks) {
    const Walks w(0.7, 0.2);
    const auto r = link(w.f, w.x, w.y, Options{});
    ASSERT_TRUE(r.scale.learnt);
    EXPECT_GT(r.scale.pairs, 10000);
    // lag-1 per-axis variance: 0.49 + 2 x 0.04 = 0.57
    EXPECT_NEAR(r.scale.disp_var, 0.57, 0.57 * 0.06);
    EXPECT_NEAR(r.scale.step_var, 0.49, 0.49 * 0.15);
    EXPECT_NEAR(std::sqrt(r.scale.meas_var), 0.2, 0.06);
    // Every walker is one track.
    std::set<int64_t> ids(r.track.begin(), r.track.end());
    EXPECT_EQ(static_cast<int>(ids.size()), w.n);
    // The search radius follows the scale: gate_sigma x sqrt(2 x S) with S
    // about 0.57 px^2 (about 3.2 px), nowhere near the 30 px spacing.
    EXPECT_GT(r.max_search_radius, 2.5);
    EXPECT_LT(r.max_search_radius, 8.0);

    // Ten times the step: the radius grows with it.
    const Walks fast(2.0, 0.2);
    const auto rf = link(fast.f, fast.x, fast.y, Options{});
    EXPECT_NEAR(rf.scale.disp_var, 4.08, 4.08 * 0.06);
    EXPECT_GT(rf.max_search_radius, 2.5 * r.max_search_radius);
}

TEST(LinkLapMotion, LearntBrownianGateIsGateSigmaTimesTheRmsStep) {
    const Walks w(0.7, 0.0, 30);
    Options o;
    o.motion = Motion::Brownian;
    const auto r = link(w.f, w.x, w.y, o);
    EXPECT_NEAR(r.max_search_radius, 3.0 * std::sqrt(2 * 0.49), 0.15);
    o.max_distance = 2.0; // stated: the gate
    EXPECT_EQ(link(w.f, w.x, w.y, o).max_search_radius, 2.0);
}

TEST(LinkLapMotion, MaxDistanceCapsTheLearntRadius) {
    const Walks w(2.0, 0.2, 20);
    Options o;
    o.max_distance = 3.0;
    const auto r = link(w.f, w.x, w.y, o);
    EXPECT_LE(r.max_search_radius, 3.0);
    // A cap below the steps cuts tracks: more than one per walker.
    std::set<int64_t> ids(r.track.begin(), r.track.end());
    EXPECT_GT(static_cast<int>(ids.size()), w.n);
}

TEST(LinkLapMotion, EmptyAndTinyInputs) {
    for (const Motion m : {Motion::Imm, Motion::ConstantVelocity, Motion::Brownian}) {
        Options o;
        o.motion = m;
        EXPECT_TRUE(link({}, {}, {}, o).track.empty());
        const auto one = link({4}, {1}, {1}, o);
        EXPECT_EQ(one.track, (std::vector<int64_t>{0}));
        EXPECT_FALSE(one.scale.learnt);
        // Two points in one frame: two tracks.
        EXPECT_EQ(link({0, 0}, {1, 2}, {1, 1}, o).track, (std::vector<int64_t>{0, 1}));
        // A 1 px step with nothing to learn from: the fallback (1 px per axis) links it.
        const auto two = link({0, 1}, {5, 6}, {5, 5}, o);
        EXPECT_EQ(two.track, (std::vector<int64_t>{0, 0}));
        // Frames that skip: only gap closing can join them.
        const auto gap = link({0, 2}, {5, 5.5}, {5, 5}, o);
        EXPECT_EQ(gap.track, (std::vector<int64_t>{0, 0}));
        EXPECT_EQ(gap.gap_closures, 1);
    }
}

TEST(LinkLapMotion, NonFiniteCoordinatesAreRefusedNamingTheRow) {
    try {
        link({0, 1}, {1, std::nan("")}, {1, 1}, Options{});
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("row 1 (frame 1)"), std::string::npos) << e.what();
    }
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

namespace {

TEST(LinkLap, PluginRefusesAnUnknownMotionNamingTheParam) {
    spotflow::testing::PluginLibrary lib(PLUGIN_PATH);
    spotflow::testing::FakeHost host;
    spotflow::testing::NodeRunner node(lib.plugin("link.lap"), host,
                                       R"({"motion": "ballistic", "max_distance": 0, "max_gap": 2, "max_gap_distance": 0,
                                           "alternative_cost": "cutoff", "alternative_cost_factor": 1.05, "cutoff_percentile": 0.9})");
    EXPECT_FALSE(node.created());
    EXPECT_NE(host.error.find("param 'motion'"), std::string::npos) << host.error;
}

// Two puncta 1 px apart, jittering (a bright one at ~5000 photons, a dim one
// at ~1000), trade places between frames 5 and 6: by position the
// detections of frame 6 go to the wrong tracks, by brightness they do not.
std::vector<int64_t> swap_ids(const std::string& intensity_column) {
    spotflow::testing::PluginLibrary lib(PLUGIN_PATH);
    spotflow::testing::FakeHost host;
    spotflow::testing::NodeRunner node(lib.plugin("link.lap"), host,
                                       R"({"max_distance": 0, "max_gap": 0, "max_gap_distance": 0, "alternative_cost": "cutoff",
                                           "alternative_cost_factor": 1.05, "cutoff_percentile": 0.9, "intensity_column": ")" +
                                           intensity_column + R"("})");
    EXPECT_TRUE(node.created()) << host.error;
    spotflow::TableBuilder b;
    const auto cf = b.add_column("frame", spotflow::ColumnType::Int64);
    const auto cx = b.add_column("x", spotflow::ColumnType::Float64);
    const auto cy = b.add_column("y", spotflow::ColumnType::Float64);
    const auto cn = b.add_column("photons", spotflow::ColumnType::Float64);
    for (int t = 0; t < 9; ++t) {
        const double j = 0.3 * (t % 2), wobble = t % 2 ? 1.01 : 0.99;
        const bool swapped = t >= 6;
        b.append_int(cf, t), b.append_double(cx, swapped ? 10.9 : 10), b.append_double(cy, 10 + j), b.append_double(cn, 5000 * wobble);
        b.append_int(cf, t), b.append_double(cx, swapped ? 10.1 : 11), b.append_double(cy, 10 - j), b.append_double(cn, 1000 / wobble);
    }
    spotflow::testing::OwnedPacket in;
    in.p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&in.p.schema, &in.p.array);
    EXPECT_EQ(node.process(0, in.p), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    const auto tab = node.emitted.at(0)->table();
    std::vector<int64_t> ids;
    for (int64_t r = 0; r < 18; ++r) ids.push_back(tab.get_int(tab.require("track_id"), r));
    return ids;
}

TEST(LinkLap, PluginUsesThePhotonsColumnToKeepTradingPunctaApart) {
    const auto with = swap_ids("photons");
    for (int t = 1; t < 9; ++t) EXPECT_EQ(with[static_cast<size_t>(2 * t)], with[0]) << "frame " << t;
    const auto without = swap_ids("");
    EXPECT_NE(without[12], without[0]); // the bright punctum's frame-6 point went elsewhere
}

} // namespace

// Walkers on a 30 px grid, every other one with a companion 3 px away
// moving with it (both crowded within the 6 px default): isolated
// detections' log intensities scatter with sd 0.05, crowded ones' with sd
// 0.15 (light shared with the neighbour). The learnt per-detection
// variances are those two, and walkers and companions are one track each
// (within 2 of 337).
TEST(LinkLapMotion, LearnsTheIntensityVarianceOfCrowdedDetectionsApart) {
    std::mt19937_64 rng(11);
    std::normal_distribution<double> step(0, 0.3), iso(0, 0.05), crowd(0, 0.15);
    std::vector<int64_t> f;
    std::vector<double> x, y, photons;
    std::vector<double> px, py;
    for (int i = 0; i < 15; ++i)
        for (int j = 0; j < 15; ++j) px.push_back(30.0 * i), py.push_back(30.0 * j);
    const int n = static_cast<int>(px.size());
    int tracks = 0;
    for (int k = 0; k < n; ++k) tracks += 1 + (k % 2);
    for (int t = 0; t < 60; ++t)
        for (int k = 0; k < n; ++k) {
            if (t > 0) px[k] += step(rng), py[k] += step(rng);
            const bool pair = k % 2 == 1;
            f.push_back(t), x.push_back(px[k]), y.push_back(py[k]);
            photons.push_back(1000 * std::exp(pair ? crowd(rng) : iso(rng)));
            if (pair) f.push_back(t), x.push_back(px[k] + 3), y.push_back(py[k]), photons.push_back(1000 * std::exp(crowd(rng)));
        }
    const auto r = link(f, x, y, Options{}, &photons);
    ASSERT_TRUE(r.scale.learnt);
    EXPECT_NEAR(std::sqrt(r.scale.intensity_var), 0.05, 0.05 * 0.1);
    EXPECT_NEAR(std::sqrt(r.scale.intensity_var_crowded), 0.15, 0.15 * 0.1);
    EXPECT_NEAR(static_cast<int>(std::set<int64_t>(r.track.begin(), r.track.end()).size()), tracks, 2);
    // crowding_radius 0: one variance from all pairs, between the two.
    Options one;
    one.crowding_radius = 0;
    const auto r1 = link(f, x, y, one, &photons);
    EXPECT_EQ(r1.scale.intensity_var, r1.scale.intensity_var_crowded);
    EXPECT_GT(std::sqrt(r1.scale.intensity_var), 0.06);
    EXPECT_LT(std::sqrt(r1.scale.intensity_var), 0.15);
}
