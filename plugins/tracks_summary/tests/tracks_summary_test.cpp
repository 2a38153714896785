#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>

#include "plugin_harness.hpp"
#include "tracks_table.hpp"

using namespace spotflow::testing; // the harness, ColumnType, TableBuilder, TableView

namespace {

using Row = spotflow::testing::TrackPoint; // frame, x, y, track

std::unique_ptr<OwnedPacket> batch(const std::vector<Row>& rows, double frame_interval_s = 0) {
    return spotflow::testing::tracks_packet(rows, {.frame_interval_s = frame_interval_s});
}

std::unique_ptr<OwnedPacket> batch_without_track_id() { return spotflow::testing::tracks_packet({}, {.track_id = false}); }

class TracksSummary : public ::testing::Test {
protected:
    FakeHost host;
    PluginLibrary lib{PLUGIN_PATH};
    const spotflow_plugin_desc& desc = lib.plugin("tracks.summary");
};

TEST_F(TracksSummary, DescribesItself) {
    EXPECT_STREQ(desc.kind, "filter");
    ASSERT_EQ(desc.n_inputs, 1u);
    EXPECT_STREQ(desc.inputs[0].type, SPOTFLOW_TYPE_TRACKS);
    EXPECT_TRUE(desc.inputs[0].flags & SPOTFLOW_PORT_WHOLE_STREAM);
    ASSERT_EQ(desc.n_outputs, 1u);
    EXPECT_STREQ(desc.outputs[0].name, "summary");
    EXPECT_STREQ(desc.outputs[0].type, SPOTFLOW_TYPE_TABLE);
    EXPECT_EQ(nlohmann::json::parse(desc.params_schema).at("additionalProperties"), false);
}

// Hand-computed per track; duration counts frames first..last inclusive
// (seed 000: start 0, end 95 -> duration 96, with 87 detections).
TEST_F(TracksSummary, SummarisesAHandMadeTrackSet) {
    NodeRunner node(desc, host, R"({"frame_interval_s": 0})");
    ASSERT_TRUE(node.created()) << host.error;
    std::vector<Row> first = {
        {3, 3.0, 4.0, 5}, {2, 1.0, 2.0, 5}, {4, std::nullopt, std::nullopt, 5}, // a bridged gap at frame 4
        {0, 10.0, 10.0, 0}, {10, 0.0, 0.0, 7}, {11, 1.0, 1.0, 7},
        {6, std::nullopt, std::nullopt, 9}, // a track with no detection
    };
    std::vector<Row> second = {{12, 2.0, 5.0, 7}, {5, 5.0, 9.0, 5}};
    for (int64_t f = 0; f <= 95; ++f)
        if (f == 0 || f == 95 || f % 10 != 5) second.push_back({f, 100.0 + 0.5, 200.0, 1}); // 87 of 96 frames
    ASSERT_EQ(node.process(0, batch(first, 0.05)->p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.process(0, batch(second, 0.05)->p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(host.logs.size(), 1u);
    EXPECT_EQ(host.logs[0], "1 tracks have no row with a position and are left out");

    ASSERT_EQ(node.emitted.size(), 1u);
    EXPECT_DOUBLE_EQ(node.emitted[0]->p.info.frame_interval_s, 0.05);
    const TableView t = node.emitted[0]->table();
    const char* names[] = {"track_id", "length", "start_frame", "end_frame", "duration", "mean_x", "mean_y",
                           "duration_s"};
    ASSERT_EQ(t.columns(), 8);
    for (int c = 0; c < 8; ++c) EXPECT_EQ(t.column_name(c), names[c]);
    for (int c = 0; c < 5; ++c) EXPECT_EQ(t.column_format(c), 'l');

    struct Expect {
        int64_t id, length, start, end, duration;
        double mx, my;
    } expect[] = {
        {0, 1, 0, 0, 1, 10.0, 10.0},
        {1, 87, 0, 95, 96, 100.5, 200.0},
        {5, 3, 2, 5, 4, 3.0, 5.0},
        {7, 3, 10, 12, 3, 1.0, 2.0},
    };
    ASSERT_EQ(t.rows(), 4);
    for (int64_t r = 0; r < 4; ++r) {
        const Expect& e = expect[r];
        EXPECT_EQ(t.get_int(0, r), e.id);
        EXPECT_EQ(t.get_int(1, r), e.length);
        EXPECT_EQ(t.get_int(2, r), e.start);
        EXPECT_EQ(t.get_int(3, r), e.end);
        EXPECT_EQ(t.get_int(4, r), e.duration);
        EXPECT_DOUBLE_EQ(t.get_double(5, r), e.mx);
        EXPECT_DOUBLE_EQ(t.get_double(6, r), e.my);
        EXPECT_DOUBLE_EQ(t.get_double(7, r), e.duration * 0.05);
    }
}

TEST_F(TracksSummary, LeavesOutSecondsWithoutAFrameInterval) {
    NodeRunner node(desc, host, R"({"frame_interval_s": 0})");
    ASSERT_EQ(node.process(0, batch({{0, 1.0, 1.0, 0}})->p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(node.emitted[0]->table().columns(), 7);

    NodeRunner given(desc, host, R"({"frame_interval_s": 0.1})");
    ASSERT_EQ(given.process(0, batch({{0, 1.0, 1.0, 0}, {4, 1.0, 1.0, 0}}, 0.05)->p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(given.finish(), SPOTFLOW_OK) << host.error;
    const TableView t = given.emitted[0]->table();
    EXPECT_DOUBLE_EQ(t.get_double(t.require("duration_s"), 0), 0.5); // the param wins over the stream
}

TEST_F(TracksSummary, EmptyStreamGivesAnEmptyTable) {
    NodeRunner node(desc, host, R"({"frame_interval_s": 0})");
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.emitted.size(), 1u);
    EXPECT_EQ(node.emitted[0]->table().rows(), 0);
    EXPECT_EQ(node.emitted[0]->table().columns(), 7);
}

TEST_F(TracksSummary, NamesMissingColumnsAndIds) {
    NodeRunner node(desc, host, R"({"frame_interval_s": 0})");
    EXPECT_EQ(node.process(0, batch_without_track_id()->p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "tracks table: table has no column 'track_id'");
    EXPECT_EQ(node.process(0, batch({{0, 1.0, 1.0, std::nullopt}})->p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "tracks row 0 has no track_id");
}

} // namespace

TEST(TracksSummaryFigure, DrawsTrackStatisticsWhenAsked) {
    const auto dir = std::filesystem::temp_directory_path() / "tracks_summary_figure_test";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    FakeHost host(dir);
    PluginLibrary lib{PLUGIN_PATH};
    NodeRunner node(lib.plugin("tracks.summary"), host, R"({"frame_interval_s": 0, "figure": "track_statistics.png"})");
    ASSERT_TRUE(node.created()) << host.error;
    std::vector<Row> rows;
    for (int64_t t = 0; t < 12; ++t)
        for (int64_t f = t; f < t + 3 + 4 * t; ++f) rows.push_back({f, 1.0 * t, 2.0, t});
    ASSERT_EQ(node.process(0, batch(rows)->p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    std::ifstream png(dir / "track_statistics.png", std::ios::binary);
    ASSERT_TRUE(png.good());
    char magic[4] = {};
    png.read(magic, 4);
    EXPECT_EQ(std::string(magic + 1, 3), "PNG");
    EXPECT_GT(std::filesystem::file_size(dir / "track_statistics.png"), 20000u);
}
