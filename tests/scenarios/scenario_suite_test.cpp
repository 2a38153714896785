// The scenario suite's fast subset: the catalogue spans issue 12's regimes,
// every regime's recipe is valid, every built pair runs on short movies and
// reports every figure, and the seed regime's figures are sane (loose
// bounds: the targets live in bench/, not here).
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "bench_util.hpp"
#include "scenarios.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

suite::Options options(const std::string& tag) {
    suite::Options o;
    o.quick = true;
    o.spotflow = SPOTFLOW_BIN;
    o.work = fs::temp_directory_path() / ("spotflow-suite-test-" + tag + "-" + std::to_string(::getpid()));
    return o;
}

const suite::Scenario& named(const std::string& name) {
    for (const auto& s : suite::scenarios())
        if (s.name == name) return s;
    throw std::runtime_error("no scenario " + name);
}

double param(const suite::Scenario& s, const char* key, double fallback) {
    return s.sim.contains(key) ? s.sim.at(key).get<double>() : fallback;
}

TEST(ScenarioSuite, CatalogueSpansTheIssuesRegimes) {
    std::set<std::string> names;
    for (const auto& s : suite::scenarios()) EXPECT_TRUE(names.insert(s.name).second) << "duplicate " << s.name;
    for (const char* required : {"seed", "dim_emccd", "dense_fast", "bright_narrow", "dim_wide", "crowded_300",
                                 "fast_directed", "confined", "long_2000"})
        EXPECT_TRUE(names.count(required)) << required;

    // The issue's spans, over the catalogue (sim.tirf defaults where unset).
    double photons_lo = 1e9, photons_hi = 0, sigma_lo = 1e9, sigma_hi = 0, density_lo = 1e9, density_hi = 0, speed = 0;
    int64_t frames = 0;
    bool emccd = false, scmos = false, confined = false, blinking = false, births = false;
    for (const auto& s : suite::scenarios()) {
        photons_lo = std::min(photons_lo, param(s, "photons", 2000)), photons_hi = std::max(photons_hi, param(s, "photons", 2000));
        sigma_lo = std::min(sigma_lo, param(s, "psf_sigma_px", 1.3)), sigma_hi = std::max(sigma_hi, param(s, "psf_sigma_px", 1.3));
        const double side = param(s, "image_size", 256);
        const double per_256 = param(s, "num_tracks", 20) * 256 * 256 / (side * side);
        density_lo = std::min(density_lo, per_256), density_hi = std::max(density_hi, per_256);
        if (param(s, "directed_fraction", 0.2) > 0) speed = std::max(speed, param(s, "speed_px_per_frame", 0.5));
        frames = std::max<int64_t>(frames, s.sim.at("num_frames").get<int64_t>());
        (s.sim.value("camera", "scmos") == "emccd" ? emccd : scmos) = true;
        confined |= param(s, "confined_fraction", 0) > 0;
        blinking |= param(s, "blink_off_probability", 0.02) >= 0.1;
        births |= param(s, "mean_lifetime_frames", 0) > 0;
        EXPECT_TRUE(s.sim.contains("seed")) << s.name << ": a regime's movie must not depend on the run seed";
        EXPECT_GT(s.quick_frames, 0);
        EXPECT_LE(s.quick_frames, s.sim.at("num_frames").get<int64_t>());
    }
    EXPECT_LE(photons_lo, 300);
    EXPECT_GE(photons_hi, 5000);
    EXPECT_LE(sigma_lo, 1.0);
    EXPECT_GE(sigma_hi, 2.0);
    EXPECT_LE(density_lo, 15);
    EXPECT_GE(density_hi, 300);
    EXPECT_GE(speed, 3.0);
    EXPECT_GE(frames, 2000);
    EXPECT_TRUE(emccd && scmos && confined && blinking && births);

    // The issue's named regimes, as it states them.
    const auto& dim = named("dim_emccd");
    EXPECT_EQ(dim.sim.at("image_size"), 192);
    EXPECT_EQ(dim.sim.at("photons"), 600);
    EXPECT_EQ(dim.sim.at("psf_sigma_px"), 1.6);
    EXPECT_EQ(dim.sim.at("background"), 40);
    EXPECT_EQ(dim.sim.at("camera"), "emccd");
    EXPECT_EQ(dim.sim.at("em_gain"), 100);
    EXPECT_EQ(dim.sim.at("e_per_adu"), 20);
    EXPECT_EQ(dim.sim.at("baseline_adu"), 100);
    EXPECT_EQ(dim.sim.at("num_frames"), 120);
    const auto& dense = named("dense_fast");
    EXPECT_EQ(dense.sim.at("num_tracks"), 150);
    EXPECT_EQ(dense.sim.at("diffusion_px2_per_frame"), 1.5);
    EXPECT_EQ(dense.sim.at("directed_fraction"), 0.3);
    EXPECT_GT(dense.sim.at("mean_lifetime_frames").get<double>(), 0);
}

TEST(ScenarioSuite, EveryRegimesRecipeValidates) {
    // `spotflow validate` checks every node's params against its schema, so
    // a regime naming a param sim.tirf lacks fails here, not in the bench.
    const auto o = options("validate");
    fs::create_directories(o.work);
    for (const auto& s : suite::scenarios()) {
        const fs::path file = o.work / (s.name + ".json");
        std::ofstream(file) << suite::recipe(s, "detect.wavelet", {"link.lap", "link.nearest"}, false).dump();
        const auto r = bench::run_child({o.spotflow.string(), "validate", file.string()});
        EXPECT_EQ(r.exit_code, 0) << s.name << ": " << r.output;
    }
    fs::remove_all(o.work);
}

TEST(ScenarioSuite, BadOptionsAreOneLineNamingTheOption) {
    auto o = options("bad");
    o.scenarios = {"seed", "nonsense"};
    try {
        suite::select_scenarios(o);
        FAIL() << "no error";
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()).rfind("--scenario: unknown scenario 'nonsense' (known: seed, ", 0), 0u) << e.what();
    }
    try {
        suite::available(o, {"detect.magic"}, suite::known_detectors(), "--detectors");
        FAIL() << "no error";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "--detectors: unknown plugin 'detect.magic' (known: detect.wavelet, detect.decode)");
    }
}

TEST(ScenarioSuite, SeedRegimeGivesSaneFiguresForEveryBuiltPair) {
    auto o = options("seed");
    o.scenarios = {"seed"};
    std::ostringstream log;
    const auto results = suite::run(o, log);
    // wavelet, lap and nearest are always built; the LibTorch ones when present.
    ASSERT_GE(results.size(), 2u) << log.str();
    std::set<std::string> pairs;
    for (const auto& r : results) {
        SCOPED_TRACE(r.detector + " x " + r.linker);
        pairs.insert(r.detector + " " + r.linker);
        ASSERT_TRUE(r.ok) << r.error << "\n" << log.str();
        // 20 frames of 20 puncta minus a few blinks.
        EXPECT_GT(r.truth, 300);
        EXPECT_LT(r.truth, 401);
        EXPECT_GT(r.f1, 0.9);
        // CRLB at 2000 photons, sigma 1.3 px, background 10: about 0.035 px per axis.
        ASSERT_TRUE(r.crlb_px);
        EXPECT_GT(*r.crlb_px, 0.02);
        EXPECT_LT(*r.crlb_px, 0.06);
        ASSERT_TRUE(r.rmse_over_crlb && r.ratio_isolated);
        EXPECT_GT(*r.rmse_over_crlb, 0.7);
        EXPECT_LT(*r.rmse_over_crlb, 3.0);
        EXPECT_EQ(r.truth_isolated + r.truth_neighbouring + r.truth_close, r.truth);
        EXPECT_GT(r.truth_isolated, r.truth_neighbouring); // 20 puncta on 256^2: few neighbours
        ASSERT_TRUE(r.alpha && r.jsc_theta && r.fragmentation && r.alpha_linker_only);
        EXPECT_GT(*r.alpha, 0.8);
        EXPECT_LE(*r.alpha, 1.0);
        EXPECT_GE(*r.fragmentation, 1.0);
        EXPECT_LT(*r.fragmentation, 2.0);
        EXPECT_GT(r.detect_s, 0);
        EXPECT_GT(r.link_s, 0);
    }
    EXPECT_TRUE(pairs.count("detect.wavelet link.lap"));
    EXPECT_TRUE(pairs.count("detect.wavelet link.nearest"));

    // The files hold the same figures.
    const json j = suite::to_json(suite::select_scenarios(o), results, o);
    ASSERT_EQ(j.at("results").size(), results.size());
    EXPECT_EQ(j.at("scenarios").at(0).at("sim_tirf_params").at("num_frames"), 20);
    EXPECT_DOUBLE_EQ(j.at("results").at(0).at("detection").at("f1").get<double>(), results[0].f1);
    const std::string csv = suite::to_csv(results);
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), static_cast<long>(results.size()) + 1);
    std::ostringstream table;
    suite::print_table(suite::select_scenarios(o), results, table);
    EXPECT_NE(table.str().find("seed: seed 000"), std::string::npos) << table.str();
}

TEST(ScenarioSuite, EveryRegimeRunsQuicklyAndReportsEveryFigure) {
    auto o = options("all");
    o.detectors = {"detect.wavelet"};
    o.linkers = {"link.nearest"};
    std::ostringstream log;
    const auto results = suite::run(o, log);
    ASSERT_EQ(results.size(), suite::scenarios().size()) << log.str();
    std::map<std::string, double> crlb;
    for (const auto& r : results) {
        SCOPED_TRACE(r.scenario);
        ASSERT_TRUE(r.ok) << r.error << "\n" << log.str();
        EXPECT_GT(r.truth, 0);
        EXPECT_EQ(r.truth_isolated + r.truth_neighbouring + r.truth_close, r.truth);
        EXPECT_GE(r.f1, 0);
        EXPECT_LE(r.f1, 1);
        if (r.recall > 0) {
            ASSERT_TRUE(r.crlb_px);
            crlb[r.scenario] = *r.crlb_px;
        }
        if (r.detections > 0) EXPECT_TRUE(r.alpha && r.jsc_theta);
    }
    // The bound follows the physics: brighter and narrower is tighter (the
    // dim regimes have a CRLB only when something was matched there).
    ASSERT_TRUE(crlb.count("bright_narrow") && crlb.count("seed"));
    EXPECT_LT(crlb.at("bright_narrow"), crlb.at("seed"));
    if (crlb.count("dim_wide")) EXPECT_LT(crlb.at("seed"), crlb.at("dim_wide"));
    if (crlb.count("emccd_seed")) EXPECT_LT(crlb.at("seed"), crlb.at("emccd_seed")); // F^2 = 2
    // The crowded regime has neighbours to score, the seed regime few.
    for (const auto& r : results)
        if (r.scenario == "crowded_300") EXPECT_GT(r.truth_neighbouring, r.truth / 4);
}

} // namespace
