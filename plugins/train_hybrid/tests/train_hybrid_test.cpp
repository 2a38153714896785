// train.hybrid through the fake host (create_loss serving loss.decode_gmm,
// loss.bce and loss.kendall, which itself creates its terms through it):
// stage 1 then stage 2 from stage 1's weights on a tiny network, the
// metrics log with log sigma, published best weights, bad params.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "loss_host.hpp"
#include "plugin_harness.hpp"
#include "plugin_params.hpp"

namespace fs = std::filesystem;
using namespace spotflow::testing;

namespace {

PluginLibrary& lib(const char* path) {
    static std::map<std::string, std::unique_ptr<PluginLibrary>> libs;
    auto& l = libs[path];
    if (!l) l = std::make_unique<PluginLibrary>(path);
    return *l;
}

// The fake host plus create_loss over the three loss libraries train.hybrid uses.
struct TrainHost : LossHost {
    explicit TrainHost(const fs::path& dir) : LossHost({GMM_PLUGIN_PATH, BCE_PLUGIN_PATH, FOCAL_PLUGIN_PATH, KENDALL_PLUGIN_PATH}, dir) {}
};

class TrainHybrid : public ::testing::Test {
protected:
    fs::path dir(const std::string& name) {
        const auto d = fs::temp_directory_path() / ("train_hybrid_" + std::to_string(getpid()) + "_" + name);
        fs::remove_all(d);
        fs::create_directories(d);
        return d;
    }
    nlohmann::json tiny(const std::string& stage) {
        return params_with_defaults(desc, {{"stage", stage},
                                           {"network", {{"base_channels", 4}, {"depth", 2}, {"head_channels", 4}}},
                                           {"frame_size", 16},
                                           {"emitters_max", 3},
                                           {"iterations", 12},
                                           {"validate_every", 6},
                                           {"validation_samples", 4},
                                           {"batch_size", 2},
                                           {"learning_rate", 0.003},
                                           {"calcium_event_rate", 0.3},
                                           {"calcium_loss_params", {{"alpha", -1.0}, {"gamma", 0.0}, {"pos_weight", 1.0}, {"eps", 1e-8}}},
                                           {"seed", 3}});
    }
    // Runs the trainer to the end; returns the status.
    spotflow_status run(TrainHost& h, const nlohmann::json& p) {
        const auto* vt = desc.node;
        void* self = vt->create(&h.table, p.dump().c_str());
        if (!self) return h.fake.error_status ? h.fake.error_status : SPOTFLOW_ERR_INVALID_ARGUMENT;
        spotflow_emitter e{nullptr, [](const spotflow_emitter*, int32_t, spotflow_packet*) -> spotflow_status { return SPOTFLOW_OK; }};
        spotflow_status s;
        while ((s = vt->pull(self, &e)) == SPOTFLOW_OK) {}
        vt->destroy(self);
        return s == SPOTFLOW_DONE ? SPOTFLOW_OK : s;
    }
    static std::vector<nlohmann::json> log(const fs::path& f) {
        std::vector<nlohmann::json> v;
        std::ifstream in(f);
        for (std::string line; std::getline(in, line);) v.push_back(nlohmann::json::parse(line));
        return v;
    }

    PluginLibrary& plugin = lib(PLUGIN_PATH);
    const spotflow_plugin_desc& desc = plugin.plugin("train.hybrid");
};

TEST_F(TrainHybrid, StageOneThenJointFromItsWeights) {
    const auto d1 = dir("stage1");
    TrainHost h1(d1);
    ASSERT_EQ(run(h1, tiny("localisation")), SPOTFLOW_OK) << h1.fake.error;
    for (const char* f : {"best_model.sfw", "final_model.sfw", "metrics.jsonl", "model_card.json", "training.png"})
        EXPECT_TRUE(fs::exists(d1 / f)) << f;
    EXPECT_FALSE(h1.fake.published.empty()); // best weights published as training goes
    const auto l1 = log(d1 / "metrics.jsonl");
    ASSERT_EQ(l1.size(), 2u);
    EXPECT_TRUE(l1[0].contains("precision"));
    EXPECT_TRUE(l1[0].contains("rmse_px"));
    EXPECT_FALSE(l1[0].contains("log_sigma_localisation"));

    const auto d2 = dir("stage2");
    TrainHost h2(d2);
    auto p = tiny("joint");
    p["pretrained_localization"] = (d1 / "best_model.sfw").string();
    p["learning_rate"] = 0.01;
    ASSERT_EQ(run(h2, p), SPOTFLOW_OK) << h2.fake.error;
    const auto l2 = log(d2 / "metrics.jsonl");
    ASSERT_EQ(l2.size(), 2u);
    for (const char* k : {"calcium_f1", "calcium_iou", "log_sigma_localisation", "log_sigma_calcium", "loss_components"})
        EXPECT_TRUE(l2[1].contains(k)) << k;
    // The log-variances are learnt: they moved from their start (0).
    EXPECT_NE(l2[1]["log_sigma_localisation"].get<double>(), 0.0);
    EXPECT_NE(l2[1]["log_sigma_calcium"].get<double>(), 0.0);
    EXPECT_TRUE(l2[1]["loss_components"].contains("weighted.calcium"));
    EXPECT_TRUE(l2[1]["loss_components"].contains("raw.localisation"));
    std::ifstream card(d2 / "model_card.json");
    const auto c = nlohmann::json::parse(card);
    EXPECT_EQ(c["stage"], "joint");
    EXPECT_EQ(c["started_from"]["param"], "pretrained_localization");
    EXPECT_EQ(c["network"]["config"]["in_channels"], 2);
    fs::remove_all(d1);
    fs::remove_all(d2);
}

TEST_F(TrainHybrid, BadParamsFailWithOneLine) {
    const auto d = dir("bad");
    TrainHost h(d);
    auto p = tiny("joint");
    p["in_channels"] = 1;
    EXPECT_EQ(run(h, p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(h.fake.error.find("stage joint needs the calcium channel"), std::string::npos) << h.fake.error;

    // A checkpoint of another architecture: a stage-1 file of depth 2 into depth 3.
    ASSERT_EQ(run(h, tiny("localisation")), SPOTFLOW_OK) << h.fake.error;
    p = tiny("localisation");
    p["network"]["depth"] = 3;
    p["frame_size"] = 16;
    p["pretrained_encoder"] = (d / "best_model.sfw").string();
    EXPECT_EQ(run(h, p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(h.fake.error.find("param 'pretrained_encoder': weights file"), std::string::npos) << h.fake.error;
    EXPECT_NE(h.fake.error.find("another architecture: depth 2 in the file, 3 here"), std::string::npos) << h.fake.error;

    p = tiny("joint");
    p["calcium_loss"] = "loss.nothing";
    EXPECT_EQ(run(h, p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(h.fake.error.find("unknown loss plugin 'loss.nothing'"), std::string::npos) << h.fake.error;
    fs::remove_all(d);
}

} // namespace
