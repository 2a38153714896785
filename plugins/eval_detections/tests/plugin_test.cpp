// eval.detections through the ABI: the neighbourhood split of recall, RMSE
// and RMSE/CRLB on a hand-made frame, and the split's param error.
#include <gtest/gtest.h>

#include <algorithm>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "plugin_harness.hpp"
#include "plugin_params.hpp"
#include "spotflow/table.hpp"

namespace {

namespace fs = std::filesystem;
using namespace spotflow::testing;
using nlohmann::json;

struct Pt {
    double x, y;
};

spotflow_packet table(const std::vector<Pt>& pts, bool photons) {
    spotflow::TableBuilder b;
    const auto f = b.add_column("frame", spotflow::ColumnType::Int64);
    const auto x = b.add_column("x", spotflow::ColumnType::Float64);
    const auto y = b.add_column("y", spotflow::ColumnType::Float64);
    const auto n = photons ? b.add_column("photons", spotflow::ColumnType::Float64) : 0;
    for (const Pt& p : pts) {
        b.append_int(f, 0);
        b.append_double(x, p.x);
        b.append_double(y, p.y);
        if (photons) b.append_double(n, 2000);
    }
    spotflow_packet pk{};
    pk.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&pk.schema, &pk.array);
    return pk;
}

TEST(EvalDetectionsPlugin, SplitsTheScoresByNeighbourhood) {
    const fs::path dir = fs::temp_directory_path() / ("eval-det-plugin-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    PluginLibrary lib(PLUGIN_PATH);
    const auto& d = lib.plugin("eval.detections");
    FakeHost host(dir);
    NodeRunner node(d, host, params_with_defaults(d, {{"plots_file", ""}, {"examples_file", ""}}).dump());
    ASSERT_TRUE(node.created()) << host.error;
    // A isolated; B and C 5 px apart (neighbouring); D and E 1 px apart (close).
    const std::vector<Pt> truth = {{10, 10}, {50, 50}, {55, 50}, {100, 100}, {101, 100}};
    // A off by 0.1 px, B and C by 0.2 px, D found exactly, E missed.
    const std::vector<Pt> det = {{10.1, 10}, {50, 50.2}, {55.2, 50}, {100, 100}};
    auto t = table(truth, true), dt = table(det, false);
    ASSERT_EQ(node.process(0, dt), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.process(1, t), SPOTFLOW_OK) << host.error;
    spotflow::release_table(&t.schema, &t.array);
    spotflow::release_table(&dt.schema, &dt.array);
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;

    std::ifstream in(dir / "evaluation_summary.json");
    const json s = json::parse(in);
    const json& c = s.at("neighbourhoods");
    EXPECT_EQ(c.at("isolated").at("truth"), 1);
    EXPECT_EQ(c.at("neighbouring").at("truth"), 2);
    EXPECT_EQ(c.at("close").at("truth"), 2);
    EXPECT_EQ(c.at("close").at("matched"), 1);
    EXPECT_DOUBLE_EQ(c.at("close").at("recall").get<double>(), 0.5);
    EXPECT_NEAR(c.at("isolated").at("rmse_lateral_px").get<double>(), 0.1, 1e-12);
    EXPECT_NEAR(c.at("neighbouring").at("rmse_lateral_px").get<double>(), 0.2, 1e-12);
    // Every emitter has the same photons: one CRLB, so the ratios are as the RMSEs.
    const double crlb = s.at("crlb_rms_px");
    EXPECT_NEAR(c.at("isolated").at("crlb_rms_px").get<double>(), crlb, 1e-12);
    EXPECT_NEAR(c.at("isolated").at("rmse_over_crlb").get<double>(), 0.1 / std::sqrt(2.0) / crlb, 1e-9);
    EXPECT_NEAR(c.at("neighbouring").at("rmse_over_crlb").get<double>(), 0.2 / std::sqrt(2.0) / crlb, 1e-9);
    EXPECT_DOUBLE_EQ(c.at("close").at("rmse_over_crlb").get<double>(), 0); // D found exactly

    // The metrics table carries the same columns.
    ASSERT_EQ(node.emitted.size(), 1u);
    const auto tv = node.emitted[0]->table();
    const auto row = tv.rows() - 1; // the "all" row
    EXPECT_EQ(tv.get_int(tv.require("neighbouring_truth"), row), 2);
    EXPECT_NEAR(tv.get_double(tv.require("isolated_rmse_lateral_px"), row), 0.1, 1e-12);
    std::ifstream csv(dir / "detection_metrics.csv");
    std::string header;
    std::getline(csv, header);
    EXPECT_NE(header.find(",isolated_truth,isolated_recall,isolated_rmse_lateral_px,isolated_crlb_rms_px,isolated_rmse_over_crlb,"
                          "neighbouring_truth"),
              std::string::npos)
        << header;
    // The file is the table's text (libs/csv): one line a row, the same columns.
    EXPECT_EQ(std::count(header.begin(), header.end(), ',') + 1, tv.columns());
    int64_t lines = 0;
    for (std::string line; std::getline(csv, line);) ++lines;
    EXPECT_EQ(lines, tv.rows());
    fs::remove_all(dir);
}

TEST(EvalDetectionsPlugin, NeighbourGatesInTheWrongOrderAreRefused) {
    PluginLibrary lib(PLUGIN_PATH);
    const auto& d = lib.plugin("eval.detections");
    FakeHost host;
    NodeRunner node(d, host, params_with_defaults(d, {{"neighbour_min_px", 12}}).dump());
    EXPECT_FALSE(node.created());
    EXPECT_EQ(host.error, "param 'neighbour_min_px' (12) is above neighbour_max_px (10)");
}

} // namespace
