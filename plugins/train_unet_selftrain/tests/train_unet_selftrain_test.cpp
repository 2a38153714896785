// train.unet_selftrain through the fake host (create_loss wired to the
// loss_focal library), on sim.particles data: the seed's layout and
// metrics keys, determinism for a seed, pseudo-label bookkeeping, bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
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

// The simulator's packets: images, labels, truth.
struct SimData {
    PluginLibrary lib{SIM_PLUGIN_PATH};
    FakeHost host;
    std::unique_ptr<NodeRunner> node;
    explicit SimData(const std::string& params) {
        node = std::make_unique<NodeRunner>(lib.plugin("sim.particles"), host, params);
        EXPECT_TRUE(node->created()) << host.error;
        EXPECT_EQ(node->pull_all(), SPOTFLOW_OK) << host.error;
    }
    const spotflow_packet& port(int p) const {
        for (const auto& e : node->emitted)
            if (e->port == p) return e->p;
        throw std::runtime_error("no packet");
    }
};

nlohmann::json tiny_params() {
    return {{"initial_epochs", 3}, {"self_training_iterations", 2}, {"retrain_epochs", 1}, {"batch_size", 8},
            {"learning_rate", 0.003}, {"weight_decay", 0.0}, {"seed", 5},
            {"pos_thresholds", {0.9, 0.8}}, {"neg_thresholds", {0.1, 0.2}}, {"adaptive_thresholds", true},
            {"loss", "loss.focal_dice"},
            {"loss_params", {{"alpha", 0.25}, {"gamma", 2.0}, {"pos_weight", 1.0}, {"eps", 1e-8}, {"focal_weight", 0.7},
                             {"dice_weight", 0.3}, {"dice_smooth", 1.0}}},
            {"augment", true}, {"validation_fraction", 0.1}, {"threshold", 0.5}, {"match_radius_px", 3.0}, {"min_blob_area", 3},
            {"network", {{"base_channels", 4}, {"depth", 2}}}, {"figure_image", 0}, {"recipe", "test"}};
}

const char* kSim = R"({"num_images": 20, "width": 32, "height": 32, "radius_px": 3, "particles_min": 2, "particles_max": 4, "contrast": 2.0, "seed": 1})";

// Runs the trainer into dir; returns the finish status.
spotflow_status run(const fs::path& dir, const nlohmann::json& params, const SimData& sim, bool with_truth, std::string* error,
                    std::vector<std::string>* published = nullptr) {
    fs::create_directories(dir);
    TrainHost host(dir);
    PluginLibrary lib(PLUGIN_PATH);
    const spotflow_plugin_desc& d = lib.plugin("train.unet_selftrain");
    void* self = d.node->create(&host.table, params.dump().c_str());
    if (!self) {
        *error = host.fake.error;
        return host.fake.error_status;
    }
    struct Sink {
        static spotflow_status emit(const spotflow_emitter*, int32_t, spotflow_packet* p) {
            spotflow::release_tensor(p->tensor);
            spotflow::release_table(&p->schema, &p->array);
            return SPOTFLOW_OK;
        }
    };
    spotflow_emitter em{nullptr, &Sink::emit};
    spotflow_status st = SPOTFLOW_OK;
    for (int port = 0; port < (with_truth ? 3 : 2) && st == SPOTFLOW_OK; ++port) {
        const spotflow_input in{port, 0, "sim"};
        st = d.node->process(self, &in, &sim.port(port), &em);
    }
    if (st == SPOTFLOW_OK) st = d.node->finish(self, &em);
    *error = host.fake.error;
    if (published) *published = host.fake.published;
    d.node->destroy(self);
    return st;
}

nlohmann::json read_json(const fs::path& p) {
    std::ifstream f(p);
    return nlohmann::json::parse(f);
}

TEST(TrainUnetSelftrain, WritesTheSeedsLayoutAndIsDeterministic) {
    const SimData sim(kSim);
    const fs::path a = fs::temp_directory_path() / ("unet_selftrain_a_" + std::to_string(getpid()));
    const fs::path b = fs::temp_directory_path() / ("unet_selftrain_b_" + std::to_string(getpid()));
    std::string err;
    std::vector<std::string> published;
    ASSERT_EQ(run(a, tiny_params(), sim, true, &err, &published), SPOTFLOW_OK) << err;
    for (const char* f : {"iteration_0_supervised/model.pt", "iteration_0_supervised/metrics.json",
                          "iteration_0_supervised/visualization.png", "iteration_1_selftrain/model.pt",
                          "iteration_2_selftrain/visualization.png", "final_model.pt", "metrics.json"})
        EXPECT_TRUE(fs::exists(a / f)) << f;
    // Every stage's checkpoint is published as it is written.
    EXPECT_NE(std::find(published.begin(), published.end(), "iteration_0_supervised/model.pt"), published.end());
    EXPECT_NE(std::find(published.begin(), published.end(), "final_model.pt"), published.end());
    const nlohmann::json m = read_json(a / "metrics.json");
    ASSERT_TRUE(m.is_array());
    ASSERT_EQ(m.size(), 3u);
    const std::vector<std::string> keys{"auc", "f1_score", "iou", "num_pixels_evaluated", "num_val_samples", "precision", "recall", "stage"};
    for (const auto& e : m) {
        std::vector<std::string> got;
        for (const auto& [k, v] : e.items()) got.push_back(k);
        EXPECT_EQ(got, keys);
        EXPECT_EQ(e["num_val_samples"], 2);
        EXPECT_EQ(e["num_pixels_evaluated"], 2 * 32 * 32);
        EXPECT_GE(e["auc"].get<double>(), 0.0);
    }
    EXPECT_EQ(m[0]["stage"], "iteration_0_supervised");
    EXPECT_EQ(m[2]["stage"], "iteration_2_selftrain");
    // The self-training stages record their pseudo-labels against the hidden truth.
    const nlohmann::json s1 = read_json(a / "iteration_1_selftrain/metrics.json");
    EXPECT_EQ(s1["pseudo_labels"]["pos_threshold"], 0.9);
    EXPECT_TRUE(s1["pseudo_labels"].contains("recovered_precision"));
    EXPECT_EQ(read_json(a / "iteration_2_selftrain/metrics.json")["pseudo_labels"]["neg_threshold"], 0.2);
    // Same seed, same numbers.
    ASSERT_EQ(run(b, tiny_params(), sim, true, &err), SPOTFLOW_OK) << err;
    EXPECT_EQ(read_json(b / "metrics.json"), m);
    if (!getenv("KEEP_OUTPUT")) {
        fs::remove_all(a);
        fs::remove_all(b);
    }
}

TEST(TrainUnetSelftrain, ThresholdScheduleMustGoFromStrictToRelaxed) {
    const SimData sim(kSim);
    const fs::path d = fs::temp_directory_path() / ("unet_selftrain_c_" + std::to_string(getpid()));
    std::string err;
    auto p = tiny_params();
    p["pos_thresholds"] = {0.9, 0.95};
    EXPECT_EQ(run(d, p, sim, true, &err), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(err.find("threshold schedule entry 1"), std::string::npos) << err;
    EXPECT_NE(err.find("pos must fall"), std::string::npos) << err;
    p = tiny_params();
    p["neg_thresholds"] = {0.1, 0.05};
    EXPECT_EQ(run(d, p, sim, true, &err), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(err.find("neg must rise"), std::string::npos) << err;
    p = tiny_params();
    p["neg_thresholds"] = {0.95, 0.96};
    p["pos_thresholds"] = {0.9, 0.8};
    EXPECT_EQ(run(d, p, sim, true, &err), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(err.find("neg must be below pos"), std::string::npos) << err;
    p = tiny_params();
    p["pos_thresholds"] = {0.9};
    EXPECT_EQ(run(d, p, sim, true, &err), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(err.find("differ in length"), std::string::npos) << err;
    fs::remove_all(d);
}

TEST(TrainUnetSelftrain, EmptyLabelSetIsAClearErrorWithNoOutput) {
    const SimData sim(R"({"num_images": 4, "width": 32, "height": 32, "radius_px": 3, "labelled_fraction": 0, "seed": 1})");
    const fs::path d = fs::temp_directory_path() / ("unet_selftrain_d_" + std::to_string(getpid()));
    std::string err;
    EXPECT_EQ(run(d, tiny_params(), sim, false, &err), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(err.find("no foreground pixel"), std::string::npos) << err;
    EXPECT_FALSE(fs::exists(d / "metrics.json"));
    fs::remove_all(d);
}

} // namespace
