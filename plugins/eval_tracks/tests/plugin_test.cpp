// eval.tracks through its ABI: what arrives on which edge, which files and
// rows come out, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "plugin_harness.hpp"
#include "tracks_table.hpp"

namespace fs = std::filesystem;
using namespace spotflow::testing; // the harness, ColumnType, TableBuilder, TableView

namespace {

using Row = spotflow::testing::TrackPoint; // frame, x, y, track

// Track `id` on frames [f0, f1] at (x0 + f - f0, y0).
std::vector<Row> line(int64_t id, int64_t f0, int64_t f1, double x0, double y0) {
    std::vector<Row> rows;
    for (int64_t f = f0; f <= f1; ++f) rows.push_back({f, x0 + static_cast<double>(f - f0), y0, id});
    return rows;
}

std::vector<Row> operator+(std::vector<Row> a, const std::vector<Row>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::unique_ptr<OwnedPacket> table(const std::vector<Row>& rows, bool with_track_id = true) {
    return spotflow::testing::tracks_packet(rows, {.track_id = with_track_id});
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

nlohmann::json params(nlohmann::json overrides = nlohmann::json::object()) {
    nlohmann::json p = {{"gate_px", 5.0},
                        {"min_track_length", 1},
                        {"pixel_size_nm", 0},
                        {"labels", nlohmann::json::array()},
                        {"wall_times_s", nlohmann::json::object()},
                        {"files",
                         {{"track_statistics", "track_statistics.csv"},
                          {"fragmentation", "fragmentation.csv"},
                          {"track_length_analysis", "track_length_analysis.png"},
                          {"diagnostic_summary", "diagnostic_summary.png"},
                          {"comparison", "comparison.csv"},
                          {"comparison_plot", "comparison.png"}}}};
    p.merge_patch(overrides);
    return p;
}

class EvalTracks : public ::testing::Test {
protected:
    void SetUp() override {
        out = fs::temp_directory_path() / ("eval_tracks_test_" + std::to_string(::getpid()) + "_" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(out);
        fs::create_directories(out);
        host = std::make_unique<FakeHost>(out);
    }
    void TearDown() override { fs::remove_all(out); }

    const spotflow_plugin_desc& desc() const { return lib.plugin("eval.tracks"); }

    fs::path out;
    std::unique_ptr<FakeHost> host;
    PluginLibrary lib{PLUGIN_PATH};
};

// The number in `column` of metrics row `row`.
double value(const TableView& t, const char* column, int64_t row = 0) { return t.get_double(t.require(column), row); }

// A ground-truth track of 10 points cut into two halves (the hand-computed
// case of the metrics tests): alpha 1/2, beta 1/3, JSC 1/3, JSC_theta 1/2,
// fragmentation 2; plus a second ground-truth track followed exactly.
const std::vector<Row> kTruth = line(1, 0, 9, 10, 10) + line(2, 0, 9, 100, 100);
const std::vector<Row> kHalves = line(11, 0, 4, 10, 10) + line(12, 5, 9, 15, 10) + line(13, 0, 9, 100, 100);

} // namespace

TEST_F(EvalTracks, DescriptorDeclaresPortsAndParams) {
    const auto& d = desc();
    EXPECT_STREQ(d.kind, "evaluator");
    ASSERT_EQ(d.n_inputs, 2u);
    EXPECT_STREQ(d.inputs[0].name, "tracks");
    EXPECT_STREQ(d.inputs[0].type, "tracks");
    EXPECT_TRUE(d.inputs[0].flags & SPOTFLOW_PORT_MULTIPLE);
    EXPECT_STREQ(d.inputs[1].name, "truth");
    EXPECT_STREQ(d.inputs[1].type, "table");
    ASSERT_EQ(d.n_outputs, 1u);
    EXPECT_STREQ(d.outputs[0].type, "metrics");
    const auto schema = nlohmann::json::parse(d.params_schema);
    EXPECT_FALSE(schema.at("additionalProperties").get<bool>());
    EXPECT_EQ(schema["properties"]["gate_px"]["default"], 5.0);
    for (const auto& [name, prop] : schema["properties"].items()) EXPECT_TRUE(prop.contains("description")) << name;
}

TEST_F(EvalTracks, OneTrackerScoresAndWritesTheSeedFiles) {
    NodeRunner node(desc(), *host, params().dump());
    ASSERT_TRUE(node.created()) << host->error;
    ASSERT_EQ(node.process(1, table(kTruth)->p), SPOTFLOW_OK) << host->error;
    // Two batches on one edge make one track set.
    ASSERT_EQ(node.process(0, table(line(11, 0, 4, 10, 10))->p), SPOTFLOW_OK) << host->error;
    ASSERT_EQ(node.process(0, table(line(12, 5, 9, 15, 10) + line(13, 0, 9, 100, 100))->p), SPOTFLOW_OK);
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host->error;

    ASSERT_EQ(node.emitted.size(), 1u);
    const TableView t = node.emitted[0]->table();
    ASSERT_EQ(t.rows(), 1);
    EXPECT_EQ(t.get_string(t.require("tracker"), 0), "test");
    // Over both GT tracks: d(X,Y) = 25 + 0, d(X,dummy) = 100, d(spurious,dummy) = 25.
    EXPECT_DOUBLE_EQ(value(t, "alpha"), 1.0 - 25.0 / 100.0);
    EXPECT_DOUBLE_EQ(value(t, "beta"), (100.0 - 25.0) / (100.0 + 25.0));
    EXPECT_DOUBLE_EQ(value(t, "jsc"), 15.0 / (15.0 + 5.0 + 5.0));
    EXPECT_DOUBLE_EQ(value(t, "jsc_theta"), 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(value(t, "rmse_px"), 0.0);
    EXPECT_DOUBLE_EQ(value(t, "fragmentation"), 1.5);
    EXPECT_DOUBLE_EQ(value(t, "mean_track_length"), 20.0 / 3.0);
    EXPECT_DOUBLE_EQ(value(t, "gt_mean_track_length"), 10.0);
    EXPECT_EQ(t.get_int(t.require("n_tracks"), 0), 3);
    EXPECT_TRUE(t.is_null(t.require("wall_time_s"), 0));

    EXPECT_EQ(read_file(out / "fragmentation.csv"),
              "gt_track_id,length,matched_points,n_predicted_tracks,predicted_track_ids\n"
              "1,10,10,2,11 12\n"
              "2,10,10,1,13\n");
    const std::string stats = read_file(out / "track_statistics.csv");
    EXPECT_EQ(stats.substr(0, stats.find('\n')),
              "set,track_id,length,first_frame,last_frame,length_class,paired_track_id");
    EXPECT_NE(stats.find("predicted,13,10,0,9,medium,2\n"), std::string::npos) << stats;
    EXPECT_NE(stats.find("ground_truth,2,10,0,9,medium,13\n"), std::string::npos) << stats;
    EXPECT_TRUE(fs::file_size(out / "track_length_analysis.png") > 1000);
    EXPECT_TRUE(fs::file_size(out / "diagnostic_summary.png") > 1000);
    EXPECT_FALSE(fs::exists(out / "comparison.csv"));
    EXPECT_FALSE(fs::exists(out / "comparison.png"));
}

TEST_F(EvalTracks, ComparisonModeGivesOneRowPerTrackerInEdgeOrder) {
    host->input_counts = {2, 1};
    const auto p = params({{"labels", {"lap", "magik"}}, {"wall_times_s", {{"magik", 12.5}}}});
    NodeRunner node(desc(), *host, p.dump());
    ASSERT_TRUE(node.created()) << host->error;
    // Edge 1 arrives first: rows still follow edge order.
    ASSERT_EQ(node.process(0, table(kHalves)->p, 1), SPOTFLOW_OK) << host->error;
    ASSERT_EQ(node.process(0, table(kTruth)->p, 0), SPOTFLOW_OK) << host->error;
    ASSERT_EQ(node.process(1, table(kTruth)->p), SPOTFLOW_OK) << host->error;
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host->error;

    const TableView t = node.emitted.at(0)->table();
    ASSERT_EQ(t.rows(), 2);
    EXPECT_EQ(t.get_string(t.require("tracker"), 0), "lap");
    EXPECT_EQ(t.get_string(t.require("tracker"), 1), "magik");
    EXPECT_DOUBLE_EQ(value(t, "alpha", 0), 1.0);
    EXPECT_DOUBLE_EQ(value(t, "alpha", 1), 0.75);
    EXPECT_DOUBLE_EQ(value(t, "fragmentation", 1), 1.5);
    EXPECT_TRUE(t.is_null(t.require("wall_time_s"), 0));
    EXPECT_DOUBLE_EQ(value(t, "wall_time_s", 1), 12.5);

    EXPECT_EQ(read_file(out / "comparison.csv"),
              "tracker,alpha,beta,jsc,jsc_theta,rmse_px,fragmentation,mean_track_length,n_tracks,wall_time_s\n"
              "lap,1,1,1,1,0,1,10,2,\n"
              "magik,0.75,0.6,0.6,0.6666666666666666,0,1.5,6.666666666666667,3,12.5\n");
    EXPECT_TRUE(fs::file_size(out / "comparison.png") > 1000);
    for (const char* dir : {"lap", "magik"})
        for (const char* f : {"track_statistics.csv", "fragmentation.csv", "track_length_analysis.png",
                              "diagnostic_summary.png"})
            EXPECT_TRUE(fs::exists(out / dir / f)) << dir << "/" << f;
    EXPECT_FALSE(fs::exists(out / "fragmentation.csv"));
}

// A host whose input_source names real upstream nodes, to see the default
// labels (the harness's FakeHost names every edge "test.input").
TEST_F(EvalTracks, LabelsDefaultToUpstreamNodeIds) {
    static const std::vector<std::string> kSources = {"lap.tracks", "magik.tracks", "magik.gap_filled"};
    spotflow_host h = *host->get();
    h.input_count = [](const spotflow_host*, int32_t port) { return port == 0 ? int32_t{3} : int32_t{1}; };
    h.input_source = [](const spotflow_host*, int32_t port, int32_t edge) -> const char* {
        return port == 0 ? kSources.at(static_cast<size_t>(edge)).c_str() : "sim.ground_truth";
    };
    const spotflow_node_vtable* vt = desc().node;
    const std::string json = params({{"files", {{"track_length_analysis", ""}, {"diagnostic_summary", ""},
                                                {"comparison_plot", ""}}}})
                                 .dump();
    void* self = vt->create(&h, json.c_str());
    ASSERT_NE(self, nullptr) << host->error;
    std::vector<std::unique_ptr<OwnedPacket>> emitted;
    spotflow_emitter em{&emitted, [](const spotflow_emitter* e, int32_t port, spotflow_packet* p) {
                            auto owned = std::make_unique<OwnedPacket>();
                            owned->port = port;
                            owned->p = *p;
                            static_cast<std::vector<std::unique_ptr<OwnedPacket>>*>(e->host_data)->push_back(std::move(owned));
                            return spotflow_status{SPOTFLOW_OK};
                        }};
    const auto truth = table(kTruth);
    const spotflow_input truth_in{1, 0, "sim.ground_truth"};
    ASSERT_EQ(vt->process(self, &truth_in, &truth->p, &em), SPOTFLOW_OK);
    for (int32_t e = 0; e < 3; ++e) {
        const auto tracks = table(kTruth);
        const spotflow_input in{0, e, kSources[static_cast<size_t>(e)].c_str()};
        ASSERT_EQ(vt->process(self, &in, &tracks->p, &em), SPOTFLOW_OK) << host->error;
    }
    ASSERT_EQ(vt->finish(self, &em), SPOTFLOW_OK) << host->error;
    vt->destroy(self);

    const TableView t = emitted.at(0)->table();
    ASSERT_EQ(t.rows(), 3);
    EXPECT_EQ(t.get_string(t.require("tracker"), 0), "lap");
    EXPECT_EQ(t.get_string(t.require("tracker"), 1), "magik.tracks");
    EXPECT_EQ(t.get_string(t.require("tracker"), 2), "magik.gap_filled");
    EXPECT_EQ(t.get_string(t.require("source"), 2), "magik.gap_filled");
    EXPECT_TRUE(fs::exists(out / "magik.gap_filled" / "fragmentation.csv"));
}

TEST_F(EvalTracks, MissingColumnIsAClearError) {
    NodeRunner node(desc(), *host, params().dump());
    ASSERT_TRUE(node.created()) << host->error;
    EXPECT_EQ(node.process(0, table(kHalves, false)->p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host->error, "tracks of 'test' from 'test.input': no column 'track_id' (columns: frame, x, y)");
    EXPECT_EQ(node.process(1, table(kTruth, false)->p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host->error, "truth from 'test.input': no column 'track_id' (columns: frame, x, y)");
}

TEST_F(EvalTracks, UnlinkedDetectionsAreNotTracks) {
    NodeRunner node(desc(), *host, params({{"files", {{"track_length_analysis", ""}, {"diagnostic_summary", ""}}}}).dump());
    ASSERT_TRUE(node.created()) << host->error;
    auto rows = kTruth;
    rows.push_back({3, 300, 300, std::nullopt});
    ASSERT_EQ(node.process(1, table(kTruth)->p), SPOTFLOW_OK);
    ASSERT_EQ(node.process(0, table(rows)->p), SPOTFLOW_OK) << host->error;
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host->error;
    const TableView t = node.emitted.at(0)->table();
    EXPECT_DOUBLE_EQ(value(t, "beta"), 1.0);
    EXPECT_NE(std::find(host->logs.begin(), host->logs.end(),
                        "tracks of 'test' from 'test.input': 1 rows without track_id are not tracks; ignored"),
              host->logs.end());

    // In the truth, a row without a track is an error.
    NodeRunner strict(desc(), *host, params().dump());
    ASSERT_TRUE(strict.created());
    EXPECT_EQ(strict.process(1, table(rows)->p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host->error, "truth from 'test.input': row 20 (frame 3) has no track_id");
}

// min_track_length 6 drops the two 5-point halves: the first GT track is
// missed, alpha = 1 - 50/100, no spurious track, beta = alpha.
TEST_F(EvalTracks, MinTrackLengthDropsShortPredictions) {
    NodeRunner node(desc(), *host, params({{"min_track_length", 6}}).dump());
    ASSERT_TRUE(node.created()) << host->error;
    ASSERT_EQ(node.process(1, table(kTruth)->p), SPOTFLOW_OK);
    ASSERT_EQ(node.process(0, table(kHalves)->p), SPOTFLOW_OK);
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host->error;
    const TableView t = node.emitted.at(0)->table();
    EXPECT_DOUBLE_EQ(value(t, "alpha"), 0.5);
    EXPECT_DOUBLE_EQ(value(t, "beta"), 0.5);
    EXPECT_EQ(t.get_int(t.require("n_tracks"), 0), 1);
}

TEST_F(EvalTracks, ParamErrorsNameTheParam) {
    host->input_counts = {2, 1};
    {
        NodeRunner node(desc(), *host, params({{"labels", {"only_one"}}}).dump());
        EXPECT_FALSE(node.created());
        EXPECT_EQ(host->error, "labels has 1 names but 'tracks' has 2 edges");
    }
    {
        NodeRunner node(desc(), *host, params({{"labels", {"a", "a"}}}).dump());
        EXPECT_FALSE(node.created());
        EXPECT_EQ(host->error, "labels names 'a' twice");
    }
    {
        NodeRunner node(desc(), *host, params({{"labels", {"a", "b"}}, {"wall_times_s", {{"c", 1.0}}}}).dump());
        EXPECT_FALSE(node.created());
        EXPECT_EQ(host->error, "wall_times_s names 'c', which is no tracker (trackers: a, b)");
    }
}

TEST_F(EvalTracks, NoTruthIsAnError) {
    NodeRunner node(desc(), *host, params().dump());
    ASSERT_TRUE(node.created());
    ASSERT_EQ(node.process(0, table(kHalves)->p), SPOTFLOW_OK);
    EXPECT_EQ(node.finish(), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host->error, "truth from 'test.input': no ground-truth point arrived");
}

// A tracker that sends nothing scores zero and still gets its figures.
TEST_F(EvalTracks, TrackerWithoutTracksScoresZero) {
    host->input_counts = {2, 1};
    NodeRunner node(desc(), *host, params({{"labels", {"none", "exact"}}}).dump());
    ASSERT_TRUE(node.created()) << host->error;
    ASSERT_EQ(node.process(1, table(kTruth)->p), SPOTFLOW_OK);
    ASSERT_EQ(node.process(0, table(kTruth)->p, 1), SPOTFLOW_OK);
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host->error;
    const TableView t = node.emitted.at(0)->table();
    EXPECT_DOUBLE_EQ(value(t, "alpha", 0), 0.0);
    EXPECT_DOUBLE_EQ(value(t, "jsc", 0), 0.0);
    EXPECT_TRUE(std::isnan(value(t, "rmse_px", 0)));
    EXPECT_TRUE(std::isnan(value(t, "fragmentation", 0)));
    EXPECT_EQ(t.get_int(t.require("missed_tracks"), 0), 2);
    EXPECT_DOUBLE_EQ(value(t, "alpha", 1), 1.0);
    EXPECT_TRUE(fs::file_size(out / "none" / "diagnostic_summary.png") > 1000);
    EXPECT_TRUE(fs::file_size(out / "none" / "track_length_analysis.png") > 1000);
    EXPECT_TRUE(fs::file_size(out / "comparison.png") > 1000);
    EXPECT_NE(std::find(host->logs.begin(), host->logs.end(),
                        "tracks of 'none' from 'test.input': no table arrived; scored as no tracks"),
              host->logs.end());
}
