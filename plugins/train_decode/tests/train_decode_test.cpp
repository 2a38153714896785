// train.decode through the fake host (with create_loss wired to the
// loss.decode_gmm library): a short run's loss falls, the run is
// deterministic for a seed, its weights load in detect.decode, bad params fail.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "loss_host.hpp"
#include "plugin_harness.hpp"

namespace fs = std::filesystem;
using namespace spotflow::testing;

namespace {

// The fake host plus create_loss over the loss library the test names.
struct TrainHost : LossHost {
    explicit TrainHost(const fs::path& dir) : LossHost({LOSS_PLUGIN_PATH}, dir) {}
};

nlohmann::json tiny_params() {
    return {{"simulation", nlohmann::json::object()},
            {"frame_size", 16},
            {"emitters_min", 1},
            {"emitters_max", 3},
            {"photons_min", 1500},
            {"photons_max", 4000},
            {"background_min", 5},
            {"background_max", 15},
            {"edge_probability", 0.1},
            {"margin_px", 1.0},
            {"network", {{"frame_channels", 4}, {"temporal_channels", 4}, {"head_channels", 4}, {"convs_per_level", 1}}},
            {"optimizer", "adamw"},
            {"learning_rate", 0.003},
            {"lr_step_size", 1000},
            {"lr_gamma", 0.7},
            {"weight_decay", 1e-5},
            {"batch_size", 4},
            {"iterations", 40},
            {"grad_clip_norm", 0.03},
            {"validate_every", 10},
            {"validation_samples", 8},
            {"validation_photons", 0},
            {"detection_threshold", 0.5},
            {"candidate_threshold", 0.1},
            {"tolerance_px", 2.0},
            {"loss", "loss.decode_gmm"},
            {"loss_params", nlohmann::json::object()},
            {"seed", 5},
            {"recipe", "test"},
            {"best_model", "best_model.sfw"},
            {"final_model", "final_model.sfw"},
            {"metrics_file", "metrics.jsonl"},
            {"model_card", "model_card.json"}};
}

class TrainDecode : public ::testing::Test {
protected:
    fs::path dir(const std::string& name) {
        const fs::path d = fs::temp_directory_path() / ("train_decode_test_" + std::to_string(::getpid())) / name;
        fs::create_directories(d);
        return d;
    }
    void TearDown() override { fs::remove_all(fs::temp_directory_path() / ("train_decode_test_" + std::to_string(::getpid()))); }

    // Runs the trainer to the end; returns the metrics lines.
    std::vector<nlohmann::json> train(const fs::path& out, const nlohmann::json& params) {
        TrainHost host(out);
        void* self = desc.node->create(&host.table, params.dump().c_str());
        EXPECT_NE(self, nullptr) << host.fake.error;
        if (!self) return {};
        spotflow_emitter em{nullptr, [](const spotflow_emitter*, int32_t, spotflow_packet*) -> spotflow_status { return SPOTFLOW_OK; }};
        spotflow_status s;
        while ((s = desc.node->pull(self, &em)) == SPOTFLOW_OK) {}
        EXPECT_EQ(s, SPOTFLOW_DONE) << host.fake.error;
        desc.node->destroy(self);
        std::vector<nlohmann::json> lines;
        std::ifstream f(out / "metrics.jsonl");
        for (std::string l; std::getline(f, l);) lines.push_back(nlohmann::json::parse(l));
        return lines;
    }

    PluginLibrary lib{PLUGIN_PATH};
    const spotflow_plugin_desc& desc = lib.plugin("train.decode");
};

TEST_F(TrainDecode, ShortRunLossFallsAndWritesItsFiles) {
    const auto out = dir("run");
    const auto m = train(out, tiny_params());
    ASSERT_EQ(m.size(), 4u);
    for (const auto& l : m)
        for (const char* k : {"loss", "precision", "recall", "f1", "rmse_px", "step", "train_loss", "lr"}) EXPECT_TRUE(l.contains(k)) << k;
    // loss.decode_gmm's terms (ABI 1.1), which add up to the validation loss.
    for (const auto& l : m) {
        double sum = 0;
        for (const char* k : {"count", "localisation", "background"}) sum += l["loss_components"].at(k).get<double>();
        EXPECT_NEAR(sum, l["loss"].get<double>(), 1e-6 * std::abs(l["loss"].get<double>()) + 1e-9);
    }
    EXPECT_LT(m.back()["loss"].get<double>(), m.front()["loss"].get<double>());
    EXPECT_EQ(m.back()["step"], 40);
    for (const char* f : {"best_model.sfw", "final_model.sfw", "model_card.json"}) EXPECT_TRUE(fs::exists(out / f)) << f;
    const auto card = nlohmann::json::parse(std::ifstream(out / "model_card.json"));
    EXPECT_EQ(card["steps"], 40);
    EXPECT_TRUE(card.contains("data_model"));
    EXPECT_TRUE(card["scores_best"].contains("f1"));
    EXPECT_GT(card["training_time_s"].get<double>(), 0);

    // The weights load in detect.decode and detect on a movie of the frame size.
    PluginLibrary det(DETECT_PLUGIN_PATH);
    FakeHost host;
    NodeRunner node(det.plugin("detect.decode"), host,
                    nlohmann::json{{"weights", (out / "final_model.sfw").string()}, {"device", "cpu"},
                                   {"detection_threshold", 0.5},
            {"candidate_threshold", 0.1}, {"split_threshold", 0.6}, {"border_px", 0},
                                   {"batch_frames", 4}, {"baseline_adu", 100}, {"e_per_adu", 0.5}, {"qe", 0.9},
                                   {"em_gain", 1}}
                        .dump());
    ASSERT_TRUE(node.created()) << host.error;
}

// Two cameras and a PSF width per window (issue 13): the model card records
// the second camera, the sigma range and the input normalisation, and the
// weights carry it for detect.decode.
TEST_F(TrainDecode, TwoCamerasAndSigmaRangeAreRecorded) {
    auto p = tiny_params();
    p["iterations"] = 10;
    p["simulation_emccd"] = {{"camera", "emccd"}, {"em_gain", 100}, {"e_per_adu", 20}, {"read_noise_e", 50}};
    p["emccd_fraction"] = 0.5;
    p["psf_sigma_min"] = 1.0;
    p["psf_sigma_max"] = 2.0;
    const auto out = dir("two");
    const auto m = train(out, p);
    ASSERT_EQ(m.size(), 1u);
    EXPECT_TRUE(std::isfinite(m[0]["loss"].get<double>()));
    const auto card = nlohmann::json::parse(std::ifstream(out / "model_card.json"));
    const auto& dm = card.at("data_model");
    EXPECT_EQ(dm.at("input_normalisation"), "poisson_counts");
    EXPECT_EQ(dm.at("second_camera").at("camera"), "emccd");
    EXPECT_EQ(dm.at("second_camera_fraction"), 0.5);
    EXPECT_EQ(dm.at("psf_sigma_px_uniform"), nlohmann::json({1.0, 2.0}));
    EXPECT_EQ(card.at("network").at("config").at("input_normalisation"), "poisson_counts");
    p["psf_sigma_min"] = 0;
    TrainHost host(dir("bad_sigma"));
    EXPECT_EQ(desc.node->create(&host.table, p.dump().c_str()), nullptr);
    EXPECT_NE(host.fake.error.find("psf_sigma_min"), std::string::npos) << host.fake.error;
}

TEST_F(TrainDecode, SameSeedSameRun) {
    auto p = tiny_params();
    p["iterations"] = 10;
    const auto a = train(dir("a"), p);
    const auto b = train(dir("b"), p);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(a[0]["loss"], b[0]["loss"]);
    EXPECT_EQ(a[0]["train_loss"], b[0]["train_loss"]);
    p["seed"] = 6;
    const auto c = train(dir("c"), p);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_NE(a[0]["loss"], c[0]["loss"]);
}

TEST_F(TrainDecode, BadParamsFailNamingThem) {
    TrainHost host(dir("bad"));
    auto p = tiny_params();
    p["simulation"] = {{"cammera", "scmos"}};
    EXPECT_EQ(desc.node->create(&host.table, p.dump().c_str()), nullptr);
    EXPECT_NE(host.fake.error.find("simulation.cammera"), std::string::npos) << host.fake.error;
    p = tiny_params();
    p["frame_size"] = 18;
    EXPECT_EQ(desc.node->create(&host.table, p.dump().c_str()), nullptr);
    EXPECT_NE(host.fake.error.find("frame_size"), std::string::npos) << host.fake.error;
    p = tiny_params();
    p["loss"] = "loss.nonexistent";
    EXPECT_EQ(desc.node->create(&host.table, p.dump().c_str()), nullptr);
}

} // namespace
