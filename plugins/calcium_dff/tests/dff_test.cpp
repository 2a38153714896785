#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "aperture.hpp"
#include "dff.hpp"
#include "plugin_harness.hpp"

using namespace calcium_dff;

namespace {

std::vector<std::optional<double>> series(const std::vector<double>& v) { return {v.begin(), v.end()}; }

TEST(Dff, ConstantTraceHasZeroDffAndNoEvents) {
    const auto f = series(std::vector<double>(200, 150.0));
    for (const auto method : {Baseline::Percentile, Baseline::Maximin}) {
        BaselineOptions o;
        o.method = method;
        const auto f0 = baseline(f, o);
        std::vector<std::optional<double>> dff(f.size());
        for (size_t k = 0; k < f.size(); ++k) {
            ASSERT_TRUE(f0[k]);
            dff[k] = (*f[k] - *f0[k]) / *f0[k];
            EXPECT_NEAR(*dff[k], 0.0, 1e-12);
        }
        EXPECT_TRUE(detect_events(dff, {}).empty());
    }
}

TEST(Dff, FindsAKnownTransientAtItsOnset) {
    // Baseline 100 with noise sd 1; at frame 120 a transient of dF/F0 = 1
    // rising in one frame and decaying with tau = 8 frames.
    std::mt19937_64 rng(1);
    std::normal_distribution<double> noise(0, 1);
    std::vector<double> v(300);
    for (size_t k = 0; k < v.size(); ++k) {
        const double t = static_cast<double>(k) - 120;
        v[k] = 100 * (1 + (t >= 0 ? std::exp(-t / 8) : 0)) + noise(rng);
    }
    const auto f = series(v);
    const auto f0 = baseline(f, {});
    std::vector<std::optional<double>> dff(f.size());
    for (size_t k = 0; k < f.size(); ++k) dff[k] = (*f[k] - *f0[k]) / *f0[k];
    EXPECT_NEAR(*f0[50], 100, 2);
    const auto ev = detect_events(dff, {});
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].onset, 120);
    EXPECT_EQ(ev[0].peak, 120);
    EXPECT_NEAR(ev[0].amplitude, 1.0, 0.05);
    // Above 3 robust sd (about 0.03) until exp(-t/8) < 0.03: about 28 frames.
    EXPECT_NEAR(ev[0].end - ev[0].onset + 1, 28, 4);
}

TEST(Dff, ADecayThatDipsBelowTheThresholdIsOneEventWithItsRiseAsOnset) {
    // A background of -0.01, 0, 0.01 repeating: median 0, MAD 0.01, robust
    // sd 0.0148, so k = 3 is 0.0445 and k_low = 1 is 0.0148. A transient
    // starts at frame 49, peaks at 51, dips below k at 55 and recovers.
    std::vector<std::optional<double>> dff(100);
    for (size_t k = 0; k < dff.size(); ++k) dff[k] = 0.01 * (static_cast<double>(k % 3) - 1);
    const double trace[] = {0.03, 0.5, 1.0, 0.8, 0.4, 0.2, 0.03, 0.12, 0.1, 0.05, 0.03};
    for (size_t k = 0; k < 11; ++k) dff[49 + k] = trace[k];
    EventOptions o;
    const auto ev = detect_events(dff, o);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].onset, 49); // 0.03 is above 1 sd: the rise starts there, not at the k crossing (50)
    EXPECT_EQ(ev[0].peak, 51);
    EXPECT_EQ(ev[0].end, 59);
    o.k_low = o.k; // no hysteresis: the dip splits it
    EXPECT_EQ(detect_events(dff, o).size(), 2u);
}

TEST(Dff, MissingFramesStayMissingAndBreakEvents) {
    std::vector<std::optional<double>> f(40, 100.0);
    f[10] = std::nullopt;
    const auto f0 = baseline(f, {});
    EXPECT_FALSE(f0[10]);
    std::vector<std::optional<double>> dff(40, 0.0);
    for (int k = 5; k < 15; ++k) dff[k] = 1.0;
    dff[10] = std::nullopt;
    dff[20] = 0.01; // a little spread so the MAD is not zero
    dff[30] = -0.01;
    const auto ev = detect_events(dff, {3, 2});
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0].onset, 5);
    EXPECT_EQ(ev[0].end, 9);
    EXPECT_EQ(ev[1].onset, 11);
}

TEST(Aperture, MeanMinusAnnulusMedian) {
    const int w = 21, h = 21;
    std::vector<float> img(w * h, 10.f);
    for (int j = 0; j < h; ++j)
        for (int i = 0; i < w; ++i)
            if (std::hypot(i - 10, j - 10) <= 2.0) img[j * w + i] = 60.f;
    const auto f = measure(img, w, h, 10, 10, {});
    ASSERT_TRUE(f);
    EXPECT_DOUBLE_EQ(*f, 50.0);
    EXPECT_FALSE(measure(img, w, h, -30, -30, {})); // off the frame
}

TEST(CalciumDffPlugin, TracesHaveOneRowPerFrameWithGapsAsNulls) {
    using namespace spotflow::testing;
    PluginLibrary lib(PLUGIN_PATH);
    FakeHost host;
    NodeRunner node(lib.plugin("calcium.dff"), host,
                    R"({"aperture_radius_px": 2.0, "annulus_inner_px": 4.0, "annulus_outer_px": 7.0,
                        "baseline": "percentile", "baseline_percentile": 8, "baseline_window_frames": 100,
                        "baseline_window_s": 0, "smooth_sigma_frames": 2, "event_threshold": 3, "event_min_frames": 2,
                        "figure": "", "figure_tracks": 8})");
    ASSERT_TRUE(node.created()) << host.error;
    // A punctum of constant brightness at (10, 10) in 6 frames; the track
    // misses frame 3.
    const int w = 24, h = 24, frames = 6;
    std::vector<uint16_t> px(static_cast<size_t>(frames * w * h), 110);
    for (int t = 0; t < frames; ++t)
        for (int j = 0; j < h; ++j)
            for (int i = 0; i < w; ++i)
                if (std::hypot(i - 10, j - 10) <= 2.0) px[static_cast<size_t>((t * h + j) * w + i)] = 150;
    OwnedPacket movie;
    movie.p.kind = SPOTFLOW_DATA_TENSOR;
    movie.p.info = {0, frames, frames, 108, 0.1, 1, 0};
    movie.p.tensor = spotflow::make_tensor<uint16_t>({frames, h, w}, px);
    spotflow::TableBuilder b;
    const auto cf = b.add_column("frame", spotflow::ColumnType::Int64), cx = b.add_column("x", spotflow::ColumnType::Float64),
               cy = b.add_column("y", spotflow::ColumnType::Float64), ci = b.add_column("track_id", spotflow::ColumnType::Int64);
    for (int t : {0, 1, 2, 4, 5}) {
        b.append_int(cf, t);
        b.append_double(cx, 10);
        b.append_double(cy, 10);
        b.append_int(ci, 42);
    }
    OwnedPacket tracks;
    tracks.p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&tracks.p.schema, &tracks.p.array);
    ASSERT_EQ(node.process(1, movie.p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.process(0, tracks.p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.emitted.size(), 2u);
    const auto t = node.emitted[0]->table();
    ASSERT_EQ(t.rows(), 6);
    for (int r = 0; r < 6; ++r) {
        EXPECT_EQ(t.get_int(t.require("track_id"), r), 42);
        EXPECT_EQ(t.get_int(t.require("frame"), r), r);
        if (r == 3) {
            EXPECT_TRUE(t.is_null(t.require("f"), r));
            EXPECT_TRUE(t.is_null(t.require("dff"), r));
        } else {
            EXPECT_DOUBLE_EQ(t.get_double(t.require("f"), r), 40.0);
            EXPECT_DOUBLE_EQ(t.get_double(t.require("dff"), r), 0.0);
        }
    }
    EXPECT_EQ(node.emitted[1]->table().rows(), 0);
}

} // namespace
