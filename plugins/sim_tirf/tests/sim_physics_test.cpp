// The simulator's physics against known answers: the integrated-Gaussian
// PSF, the camera's mean and variance, blinking's stationary state, motion,
// births and deaths, and the calcium transient's shape.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <ostream>

#include "sim_support.hpp"

namespace {

using namespace simtest;
using nlohmann::json;

struct Moments {
    double mean = 0, var = 0;
};
Moments moments(const std::vector<uint16_t>& v) {
    Moments m;
    for (const uint16_t x : v) m.mean += x;
    m.mean /= static_cast<double>(v.size());
    for (const uint16_t x : v) m.var += (x - m.mean) * (x - m.mean);
    m.var /= static_cast<double>(v.size() - 1);
    return m;
}

double pixel_fraction(int64_t k, double centre, double sigma) {
    const double s = 1.0 / (std::sqrt(2.0) * sigma);
    return 0.5 * (std::erf((k + 0.5 - centre) * s) - std::erf((k - 0.5 - centre) * s));
}

struct PsfCase {
    std::string name;
    double background, read_noise;
};

void PrintTo(const PsfCase& c, std::ostream* os) { *os << c.name; }

class SimPsf : public ::testing::TestWithParam<PsfCase> {};

TEST_P(SimPsf, MeanImageOfAStaticEmitterIsTheIntegratedGaussian) {
    // 400 frames of one emitter: the mean image less the background's mean,
    // in photons, is photons x the integrated Gaussian.
    const int64_t n = 21, frames = 400;
    const double photons = 5000, sigma = 1.3, qe = 0.9, gain = 0.5;
    const PsfCase& c = GetParam();
    const SimRun r = run_tirf({{"num_frames", frames}, {"image_size", n}, {"num_tracks", 1}, {"seed", 9},
                               {"photons", photons}, {"photons_cv", 0}, {"psf_sigma_px", sigma},
                               {"diffusion_px2_per_frame", 0}, {"directed_fraction", 0}, {"margin_px", 9.5},
                               {"blink_off_probability", 0}, {"background", c.background},
                               {"read_noise_e", c.read_noise}});
    ASSERT_TRUE(r.error.empty()) << r.error;
    ASSERT_EQ(r.truth.size(), static_cast<size_t>(frames));
    const double cx0 = r.truth[0].x, cy0 = r.truth[0].y;
    EXPECT_NE(cx0, 10.0); // a sub-pixel position, drawn in [9.5, 10.5]
    const double offset = 100 + qe * c.background / gain;
    std::vector<double> mean(static_cast<size_t>(n * n), 0.0);
    for (int64_t t = 0; t < frames; ++t)
        for (int64_t i = 0; i < n * n; ++i)
            mean[static_cast<size_t>(i)] +=
                (r.movie[static_cast<size_t>(t * n * n + i)] - offset) * gain / qe / frames;
    double total = 0, cx = 0, cy = 0, worst = 0;
    for (int64_t y = 0; y < n; ++y)
        for (int64_t x = 0; x < n; ++x) {
            const double v = mean[static_cast<size_t>(y * n + x)];
            total += v;
            cx += x * v;
            cy += y * v;
            const double expected = photons * pixel_fraction(x, cx0, sigma) * pixel_fraction(y, cy0, sigma);
            worst = std::max(worst, std::fabs(v - expected) / photons);
        }
    EXPECT_NEAR(cx / total, cx0, 0.02);
    EXPECT_NEAR(cy / total, cy0, 0.02);
    EXPECT_NEAR(total, photons, 0.02 * photons);
    // Per pixel, within about five standard errors of the peak pixel's (2e-4 of the photons).
    EXPECT_LT(worst, 1e-3);
    // Truth photons are Poisson(photons) draws.
    double emitted = 0;
    for (const Row& row : r.truth) emitted += row.photons;
    EXPECT_NEAR(emitted / frames, photons, 0.01 * photons);
}

INSTANTIATE_TEST_SUITE_P(Backgrounds, SimPsf,
                         ::testing::Values(PsfCase{"dark", 0, 0}, PsfCase{"background_and_read_noise", 10, 1.5}),
                         [](const ::testing::TestParamInfo<PsfCase>& i) { return i.param.name; });

struct CameraCase {
    std::string camera;
    double background, e_per_adu, read_noise, em_gain;
    double mean, var;      // expected, ADU and ADU^2
    double gradient = 0;   // a vanishing one sends every pixel through the per-pixel chain
};

void PrintTo(const CameraCase& c, std::ostream* os) {
    *os << c.camera << ", background " << c.background << (c.gradient != 0 ? ", per pixel" : "");
}

class SimCamera : public ::testing::TestWithParam<CameraCase> {};

TEST_P(SimCamera, BackgroundFramesHaveTheModelsMeanAndVariance) {
    const CameraCase& c = GetParam();
    const SimRun r = run_tirf({{"num_frames", 50}, {"image_size", 64}, {"num_tracks", 0}, {"seed", 1},
                               {"camera", c.camera}, {"background", c.background}, {"e_per_adu", c.e_per_adu},
                               {"read_noise_e", c.read_noise}, {"em_gain", c.em_gain},
                               {"background_gradient", c.gradient}});
    ASSERT_TRUE(r.error.empty()) << r.error;
    const Moments m = moments(r.movie);
    EXPECT_NEAR(m.mean, c.mean, 0.002 * c.mean);
    EXPECT_NEAR(m.var, c.var, 0.02 * c.var);
}

// sCMOS: mean = baseline + qe b / g, variance = qe b / g^2 + (read / g)^2
// (+ 1/12 for rounding to whole ADU). EMCCD: mean = baseline + qe b G / g,
// variance = (2 qe b G^2 + read^2) / g^2: the excess noise factor F^2 = 2.
// Backgrounds of 9 and 45 electrons take the Poisson table and PTRS.
INSTANTIATE_TEST_SUITE_P(
    Models, SimCamera,
    ::testing::Values(CameraCase{"scmos", 10, 0.5, 1.5, 100, 100 + 9 / 0.5, 9 / 0.25 + 9 + 1.0 / 12},
                      CameraCase{"scmos", 50, 0.5, 1.5, 100, 100 + 45 / 0.5, 45 / 0.25 + 9 + 1.0 / 12},
                      CameraCase{"scmos", 3, 1.0, 0.0, 100, 100 + 2.7, 2.7},
                      CameraCase{"scmos", 10, 0.5, 1.5, 100, 100 + 9 / 0.5, 9 / 0.25 + 9 + 1.0 / 12, 1e-9},
                      CameraCase{"scmos", 50, 0.5, 1.5, 100, 100 + 45 / 0.5, 45 / 0.25 + 9 + 1.0 / 12, 1e-9},
                      CameraCase{"emccd", 10, 20, 10, 100, 100 + 900 / 20.0, (2 * 9 * 1e4 + 100) / 400.0 + 1.0 / 12},
                      CameraCase{"emccd", 50, 50, 10, 100, 100 + 4500 / 50.0, (2 * 45 * 1e4 + 100) / 2500.0 + 1.0 / 12},
                      CameraCase{"emccd", 2, 50, 20, 300, 100 + 1.8 * 300 / 50, (2 * 1.8 * 9e4 + 400) / 2500.0 + 1.0 / 12}),
    [](const ::testing::TestParamInfo<CameraCase>& i) {
        return i.param.camera + "_background" + std::to_string(static_cast<int>(i.param.background)) +
               (i.param.gradient != 0 ? "_per_pixel" : "");
    });

TEST(SimPhysics, DriftingBackgroundFollowsItsFrameMean) {
    // Without gradient each frame tabulates its own background law.
    const int64_t n = 64, frames = 21;
    const SimRun r = run_tirf({{"num_frames", frames}, {"image_size", n}, {"num_tracks", 0}, {"seed", 7},
                               {"background", 10}, {"background_drift", -0.5}});
    ASSERT_TRUE(r.error.empty()) << r.error;
    for (int64_t t = 0; t < frames; t += 10) {
        const std::vector<uint16_t> frame(r.movie.begin() + t * n * n, r.movie.begin() + (t + 1) * n * n);
        const double b = 10 * (1 - 0.5 * t / (frames - 1.0));
        const Moments m = moments(frame);
        EXPECT_NEAR(m.mean, 100 + 0.9 * b / 0.5, 0.5) << "frame " << t; // 5 standard errors
        EXPECT_NEAR(m.var, 0.9 * b / 0.25 + 9 + 1.0 / 12, 0.1 * m.var) << "frame " << t;
    }
}

TEST(SimPhysics, BackgroundFollowsItsGradientAndDrift) {
    // b(x, y, t) = 10 (1 + 0.8 ((x + y) / 2(n - 1) - 0.5)) (1 + 0.5 t / (T - 1)).
    const int64_t n = 33, frames = 41;
    const SimRun r = run_tirf({{"num_frames", frames}, {"image_size", n}, {"num_tracks", 0}, {"seed", 6},
                            {"background", 10}, {"background_gradient", 0.8}, {"background_drift", 0.5},
                            {"read_noise_e", 0}, {"e_per_adu", 1}, {"qe", 1}});
    ASSERT_TRUE(r.error.empty()) << r.error;
    const auto corner_mean = [&](int64_t t, int64_t cx0, int64_t cy0) {
        double s = 0;
        for (int64_t y = cy0; y < cy0 + 4; ++y)
            for (int64_t x = cx0; x < cx0 + 4; ++x) s += r.movie[static_cast<size_t>(t * n * n + y * n + x)] - 100.0;
        return s / 16;
    };
    const auto model = [&](double x, double y, int64_t t) {
        return 10 * (1 + 0.8 * ((x + y) / (2.0 * (n - 1)) - 0.5)) * (1 + 0.5 * t / (frames - 1.0));
    };
    double first_tl = 0, last_br = 0;
    for (int64_t t = 0; t < 5; ++t) first_tl += corner_mean(t, 0, 0) / 5;
    for (int64_t t = frames - 5; t < frames; ++t) last_br += corner_mean(t, n - 4, n - 4) / 5;
    double expect_tl = 0, expect_br = 0;
    for (int64_t t = 0; t < 5; ++t) expect_tl += model(3, 0, t) / 5;
    for (int64_t t = frames - 5; t < frames; ++t) expect_br += model(2 * n - 5, 0, t) / 5;
    // 80 Poisson pixels of mean ~6 and ~17: standard errors 0.27 and 0.46.
    EXPECT_NEAR(first_tl, expect_tl, 1.2);
    EXPECT_NEAR(last_br, expect_br, 2.0);
    // The whole image's mean follows the drift alone.
    double first = 0, last = 0;
    for (int64_t i = 0; i < n * n; ++i) {
        first += (r.movie[static_cast<size_t>(i)] - 100.0) / (n * n);
        last += (r.movie[static_cast<size_t>((frames - 1) * n * n + i)] - 100.0) / (n * n);
    }
    EXPECT_NEAR(first, 10, 0.35);
    EXPECT_NEAR(last, 15, 0.45);
}

TEST(SimPhysics, BlinkingOffFractionIsTheChainsStationaryProbability) {
    // Off fraction p_off / (p_off + p_on) = 0.1 / 0.4.
    const SimRun r = run_tirf({{"num_frames", 500}, {"image_size", 32}, {"num_tracks", 200}, {"seed", 12},
                            {"psf_sigma_px", 0.5}, {"blink_off_probability", 0.1}, {"blink_on_probability", 0.3}});
    ASSERT_TRUE(r.error.empty()) << r.error;
    const double off = 1.0 - static_cast<double>(r.truth.size()) / (200.0 * 500.0);
    EXPECT_NEAR(off, 0.25, 0.01);
}

TEST(SimPhysics, BrownianStepsHaveVariance2DPerAxisAndDirectedTracksTheirSpeed) {
    const SimRun brownian = run_tirf({{"num_frames", 400}, {"image_size", 400}, {"num_tracks", 30}, {"seed", 13},
                                   {"psf_sigma_px", 0.5}, {"diffusion_px2_per_frame", 0.5},
                                   {"directed_fraction", 0}, {"blink_off_probability", 0}});
    ASSERT_TRUE(brownian.error.empty()) << brownian.error;
    std::map<int64_t, Row> previous;
    double sum2 = 0;
    int64_t steps = 0;
    for (const Row& row : brownian.truth) {
        if (auto it = previous.find(row.track_id); it != previous.end()) {
            sum2 += std::pow(row.x - it->second.x, 2) + std::pow(row.y - it->second.y, 2);
            steps += 2;
        }
        previous[row.track_id] = row;
    }
    EXPECT_NEAR(sum2 / static_cast<double>(steps), 1.0, 0.035); // 2 D; 23940 axis steps: SE 0.9%

    const SimRun directed = run_tirf({{"num_frames", 30}, {"image_size", 400}, {"num_tracks", 10}, {"seed", 14},
                                   {"psf_sigma_px", 0.5}, {"diffusion_px2_per_frame", 0}, {"directed_fraction", 1},
                                   {"speed_px_per_frame", 2.0}, {"blink_off_probability", 0}});
    previous.clear();
    std::map<int64_t, int> reflected;
    for (const Row& row : directed.truth) {
        if (auto it = previous.find(row.track_id); it != previous.end()) {
            const double step = std::hypot(row.x - it->second.x, row.y - it->second.y);
            if (std::fabs(step - 2.0) > 1e-9) ++reflected[row.track_id];
        }
        previous[row.track_id] = row;
    }
    // Only a bounce off the margin may shorten a step, at most twice in 30 frames.
    for (const auto& [track, n] : reflected) EXPECT_LE(n, 2) << track;
}

TEST(SimPhysics, ConfinedTracksStayInTheirDiscAndFillItUniformly) {
    // Every track confined to a 2 px disc around its start, D 0.5 px^2/frame
    // (the disc is crossed in ~2 frames). Reflected Brownian motion in a disc
    // is uniform there in the long run: E r^2 = R^2 / 2 = 2 px^2, and the
    // squared displacement over a long lag is E|p - q|^2 = R^2 = 4 px^2.
    const SimRun r = run_tirf({{"num_frames", 400}, {"image_size", 128}, {"num_tracks", 40}, {"seed", 21},
                               {"psf_sigma_px", 0.5}, {"diffusion_px2_per_frame", 0.5}, {"directed_fraction", 0},
                               {"confined_fraction", 1}, {"confinement_radius_px", 2.0}, {"margin_px", 6},
                               {"blink_off_probability", 0}});
    ASSERT_TRUE(r.error.empty()) << r.error;
    std::map<int64_t, std::vector<Row>> tracks;
    for (const Row& row : r.truth) tracks[row.track_id].push_back(row);
    ASSERT_EQ(tracks.size(), 40u);
    double r2 = 0, lag2 = 0;
    int64_t n = 0, nlag = 0;
    for (const auto& [id, rows] : tracks) {
        ASSERT_EQ(rows.size(), 400u);
        const Row& start = rows.front(); // the disc's centre
        for (size_t k = 0; k < rows.size(); ++k) {
            const double d2 = std::pow(rows[k].x - start.x, 2) + std::pow(rows[k].y - start.y, 2);
            ASSERT_LE(d2, 4.0 + 1e-9) << "track " << id << " frame " << k;
            if (k >= 20) r2 += d2, ++n; // past the start at the centre
            if (k >= 20 && k + 50 < rows.size())
                lag2 += std::pow(rows[k + 50].x - rows[k].x, 2) + std::pow(rows[k + 50].y - rows[k].y, 2), ++nlag;
        }
    }
    // ~40 x 190 independent samples (correlation ~2 frames): SE about 0.02.
    EXPECT_NEAR(r2 / static_cast<double>(n), 2.0, 0.1);
    EXPECT_NEAR(lag2 / static_cast<double>(nlag), 4.0, 0.2);

    // Half the tracks confined, the rest free: the free ones wander off.
    const SimRun mixed = run_tirf({{"num_frames", 200}, {"image_size", 256}, {"num_tracks", 200}, {"seed", 22},
                                   {"psf_sigma_px", 0.5}, {"diffusion_px2_per_frame", 0.5}, {"directed_fraction", 0},
                                   {"confined_fraction", 0.5}, {"blink_off_probability", 0}});
    ASSERT_TRUE(mixed.error.empty()) << mixed.error;
    std::map<int64_t, std::pair<Row, double>> far; // first row, largest distance from it
    for (const Row& row : mixed.truth) {
        auto [it, fresh] = far.emplace(row.track_id, std::make_pair(row, 0.0));
        it->second.second = std::max(it->second.second, std::hypot(row.x - it->second.first.x, row.y - it->second.first.y));
    }
    int confined = 0;
    for (const auto& [id, f] : far) confined += f.second <= 2.0 + 1e-9;
    EXPECT_NEAR(confined, 100, 25); // binomial(200, 0.5): SE 7; a free track leaves 2 px in 200 frames
}

TEST(SimPhysics, TracksAreBornAndDieAroundTheMeanPopulation) {
    const SimRun r = run_tirf({{"num_frames", 2000}, {"image_size", 64}, {"num_tracks", 30}, {"seed", 15},
                            {"psf_sigma_px", 0.5}, {"mean_lifetime_frames", 20}, {"blink_off_probability", 0}});
    ASSERT_TRUE(r.error.empty()) << r.error;
    std::map<int64_t, std::pair<int64_t, int64_t>> span;
    for (const Row& row : r.truth) {
        auto [it, fresh] = span.emplace(row.track_id, std::make_pair(row.frame, row.frame));
        if (!fresh) it->second.second = row.frame;
    }
    // Stationary M/M/inf population: Poisson, mean 30 live tracks per frame;
    // 2000 frames hold ~100 independent ones (correlation time 20 frames): SE 0.55.
    EXPECT_NEAR(static_cast<double>(r.truth.size()) / 2000.0, 30.0, 2.0);
    // Lifetimes of tracks born and dead inside the movie: geometric, mean 20 frames.
    double sum = 0;
    int n = 0;
    for (const auto& [id, s] : span)
        if (s.first > 0 && s.second < 1900) {
            sum += static_cast<double>(s.second - s.first + 1);
            ++n;
        }
    ASSERT_GT(n, 2000);
    EXPECT_NEAR(sum / n, 20.0, 2.0);
}

class SimBrightness : public ::testing::TestWithParam<std::string> {};

TEST_P(SimBrightness, PerEmitterMeansSpreadWithTheirCoefficientOfVariation) {
    // One frame of 3000 always-visible emitters: each truth count is
    // Poisson(m_i), so var = var(m) + E[m] and CV(m)^2 = (var - mean) / mean^2.
    const SimRun r = run_tirf({{"num_frames", 1}, {"image_size", 256}, {"num_tracks", 3000}, {"seed", 17},
                               {"psf_sigma_px", 0.5}, {"photons", 2000}, {"photons_cv", 0.3},
                               {"photons_distribution", GetParam()}, {"blink_off_probability", 0}});
    ASSERT_TRUE(r.error.empty()) << r.error;
    ASSERT_EQ(r.truth.size(), 3000u);
    double mean = 0, var = 0;
    for (const Row& row : r.truth) mean += row.photons / 3000;
    for (const Row& row : r.truth) var += std::pow(row.photons - mean, 2) / 2999;
    EXPECT_NEAR(mean, 2000, 35);                             // SE 11
    EXPECT_NEAR(std::sqrt((var - mean) / (mean * mean)), 0.3, 0.025); // SE about 0.005
}

INSTANTIATE_TEST_SUITE_P(Distributions, SimBrightness, ::testing::Values("lognormal", "gamma"));

TEST(SimPhysics, CalciumOnsetsFollowTheRateAndTheRefractoryPeriod) {
    const auto onsets = [](double refractory) {
        const SimRun r = run_tirf({{"num_frames", 500}, {"image_size", 32}, {"num_tracks", 20}, {"seed", 18},
                                   {"psf_sigma_px", 0.5}, {"calcium", true}, {"calcium_sigma_px", 0.5},
                                   {"event_rate", 0.05}, {"event_refractory_frames", refractory}});
        EXPECT_TRUE(r.error.empty()) << r.error;
        return r.events;
    };
    // Without a refractory period: Binomial(20 x 500, 0.05), mean 500, SD 22.
    const auto free = onsets(0);
    EXPECT_NEAR(static_cast<double>(free.size()), 500, 90);
    double amplitude = 0;
    for (const Event& e : free) amplitude += e.amplitude_dff / static_cast<double>(free.size());
    EXPECT_NEAR(amplitude, 1.25, 0.08); // uniform on [0.5, 2]: SD 0.43, SE 0.02
    // With 30 frames of refractory period: at least 30 frames between one
    // track's onsets, and a renewal rate of 1 / (30 + 1 / 0.05 - 1) per frame.
    const auto spaced = onsets(30);
    std::map<int64_t, int64_t> last;
    for (const Event& e : spaced) {
        if (auto it = last.find(e.track_id); it != last.end()) {
            EXPECT_GE(e.onset_frame - it->second, 30);
        }
        last[e.track_id] = e.onset_frame;
    }
    EXPECT_NEAR(static_cast<double>(spaced.size()), 20 * 500 / 49.0, 40);
}

TEST(SimPhysics, CalciumTraceOfOneTransientRisesLinearlyAndDecaysExponentially) {
    const int64_t n = 32, frames = 40;
    const double f0 = 1e5, qe = 0.9, gain = 0.5;
    const SimRun r = run_tirf({{"num_frames", frames}, {"image_size", n}, {"num_tracks", 1}, {"seed", 16},
                            {"photons_cv", 0}, {"diffusion_px2_per_frame", 0}, {"directed_fraction", 0},
                            {"margin_px", 12}, {"calcium", true}, {"calcium_photons", f0}, {"calcium_background", 0},
                            {"read_noise_e", 0}, {"event_rate", 1.0}, {"event_refractory_frames", 1000},
                            {"rise_frames", 4}, {"decay_frames", 10}, {"amplitude_dff_min", 1.0},
                            {"amplitude_dff_max", 3.0}});
    ASSERT_TRUE(r.error.empty()) << r.error;
    ASSERT_EQ(r.events.size(), 1u);
    const Event& e = r.events[0];
    EXPECT_EQ(e.track_id, 0);
    EXPECT_EQ(e.onset_frame, 0);
    EXPECT_EQ(e.peak_frame, 4);
    EXPECT_DOUBLE_EQ(e.decay_frames, 10);
    for (int64_t t = 0; t < frames; ++t) {
        double photons = 0;
        for (int64_t i = 0; i < n * n; ++i)
            photons += (r.calcium[static_cast<size_t>(t * n * n + i)] - 100.0) * gain / qe;
        const double dff = photons / f0 - 1.0;
        const double expected = t < 4 ? e.amplitude_dff * t / 4.0 : e.amplitude_dff * std::exp(-(t - 4) / 10.0);
        // Five standard deviations of the detected photons' Poisson noise
        // (0.3% of F0 at rest), plus the 1e-4 beyond the 4-sigma window.
        const double sd = std::sqrt((1 + expected) * f0 * qe) / (qe * f0);
        EXPECT_NEAR(dff, expected, 5 * sd + 3e-4) << "frame " << t;
    }
}

} // namespace
