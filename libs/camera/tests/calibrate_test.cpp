// Calibration against simulated movies whose camera is known (the
// simulator draws with the same model, libs/sim).
#include <gtest/gtest.h>

#include <stdexcept>

#include "spotflow_camera/calibrate.hpp"
#include "spotflow_sim/simulator.hpp"

using spotflow::camera::calibrate;
using spotflow::camera::Calibration;
using spotflow::camera::Camera;
using spotflow::camera::Kind;
using spotflow::camera::Sample;

namespace {

Sample simulate(sim::SimParams p, uint64_t seed) {
    sim::MovieSimulator s(p, seed);
    Sample out(static_cast<int>(p.image_size), static_cast<int>(p.image_size));
    while (!s.done() && !out.full()) {
        const sim::Chunk c = s.next_chunk();
        const size_t px = static_cast<size_t>(p.image_size * p.image_size);
        for (int64_t t = 0; t < c.frames; ++t)
            out.add([&](int64_t i) { return c.movie[static_cast<size_t>(t) * px + static_cast<size_t>(i)]; });
    }
    return out;
}

sim::SimParams seed_regime() {
    sim::SimParams p;
    p.num_frames = 64;
    return p; // 256^2, 20 puncta, 2000 photons, sigma 1.3, sCMOS 0.5 e-/ADU, offset 100, read noise 1.5 e-
}

sim::SimParams dim_emccd() {
    sim::SimParams p;
    p.num_frames = 64;
    p.image_size = 192;
    p.num_tracks = 8;
    p.photons = 600;
    p.psf_sigma_px = 1.6;
    p.background = 40;
    p.camera.kind = Kind::Emccd;
    p.camera.em_gain = 100;
    p.camera.e_per_adu = 20;
    p.camera.baseline_adu = 100;
    p.mean_lifetime_frames = 40;
    return p;
}

} // namespace

// Given the true photon transfer slope, the background's cumulants give
// the offset, the read noise and the kind.
TEST(Calibrate, BackgroundCumulantsGiveOffsetReadNoiseAndKind) {
    const sim::SimParams p = seed_regime();
    const auto bg = spotflow::camera::background_noise(simulate(p, 1));
    const Calibration c = calibrate(bg, p.camera.ptc_slope(), Camera{});
    EXPECT_EQ(c.camera.kind, Kind::Scmos);
    EXPECT_NEAR(c.camera.baseline_adu, 100, 3);
    EXPECT_NEAR(c.camera.read_noise_e, 1.5, 0.5);
    EXPECT_LT(c.skew_ratio, 1.1);
}

TEST(Calibrate, RecognisesAnEmccdByItsSkew) {
    const sim::SimParams p = dim_emccd();
    const auto bg = spotflow::camera::background_noise(simulate(p, 3));
    const Calibration c = calibrate(bg, p.camera.ptc_slope(), Camera{});
    EXPECT_EQ(c.camera.kind, Kind::Emccd);
    EXPECT_NEAR(c.skew_ratio, 1.5, 0.15);
    EXPECT_NEAR(c.camera.adu_per_electron(), 5.0, 1e-9);
    EXPECT_NEAR(c.camera.baseline_adu, 100, 3);
}

TEST(Calibrate, ProvisionalCameraIsExactForPoissonCounts) {
    // Without read noise an sCMOS is Poisson / g: k3 / k2 is the slope.
    sim::SimParams p = seed_regime();
    p.camera.read_noise_e = 0;
    p.camera.e_per_adu = 0.25;
    p.background = 40;
    const auto bg = spotflow::camera::background_noise(simulate(p, 5));
    const Camera c = spotflow::camera::provisional(bg, Camera{});
    EXPECT_NEAR(c.e_per_adu, 0.25, 0.25 * 0.05);
    EXPECT_NEAR(c.baseline_adu, 100, 4);
}

TEST(Calibrate, ConstantAndZeroMoviesFailWithAReason) {
    Sample zeros(32, 32), flat(32, 32);
    for (int t = 0; t < 8; ++t) {
        zeros.add([](int64_t) { return 0; });
        flat.add([](int64_t) { return 250; });
    }
    try {
        spotflow::camera::background_noise(zeros);
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("all zeros"), std::string::npos) << e.what();
    }
    try {
        spotflow::camera::background_noise(flat);
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("constant (250 ADU"), std::string::npos) << e.what();
    }
}

TEST(Calibrate, TooFewFramesFail) {
    Sample s(16, 16);
    s.add([](int64_t i) { return 100 + i % 7; });
    EXPECT_THROW(spotflow::camera::background_noise(s), std::invalid_argument);
}

TEST(Calibrate, ContradictionNamesBothFigures) {
    const sim::SimParams p = dim_emccd();
    const Calibration c = calibrate(spotflow::camera::background_noise(simulate(p, 4)), p.camera.ptc_slope(), Camera{});
    Camera stated; // sCMOS 0.5 e-/ADU: 2 ADU^2 per ADU, the EMCCD gives ~10
    const std::string w = spotflow::camera::contradiction(stated, c);
    EXPECT_NE(w.find("predicts 2 ADU^2"), std::string::npos) << w;
    EXPECT_TRUE(spotflow::camera::contradiction(c.camera, c).empty());
}

TEST(Sample, BoundsPixelsOnALargeFrame) {
    Sample s(2048, 2048, 8, 65536);
    EXPECT_LE(s.pixels(), 65536u);
    EXPECT_GE(s.pixels(), 65536u / 2);
}
