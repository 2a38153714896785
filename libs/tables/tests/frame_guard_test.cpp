// The runaway guard (frame_guard.hpp) on its own, and through both linkers
// that share it by way of LinkerNode (link.lap, link.nearest).
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "plugin_harness.hpp"
#include "plugin_params.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow_tables/frame_guard.hpp"

namespace {

using spotflow::tables::FrameGuard;

std::string error_of(FrameGuard& g, const std::vector<int64_t>& frames) {
    try {
        g.add(frames);
    } catch (const spotflow::PluginError& e) {
        EXPECT_EQ(e.status, SPOTFLOW_ERR_INVALID_ARGUMENT);
        return e.what();
    }
    return "";
}

TEST(FrameGuard, CountsFramesAcrossBatchesAndNamesTheFirstOver) {
    FrameGuard g(3, false);
    EXPECT_EQ(error_of(g, {0, 0, 1}), "");
    EXPECT_EQ(error_of(g, {1, 1, 5}), "");
    EXPECT_EQ(g.fullest_frame(), 1);
    EXPECT_EQ(g.fullest_count(), 3);
    // Frames 1 and 0 both go over in this batch: the lower is named, with
    // the count including the earlier batches.
    EXPECT_EQ(error_of(g, {1, 0, 0}),
              "detections: frame 0 has 4 detections, more than max_detections_per_frame (3): the detector is "
              "probably finding noise; raise its threshold (detect.decode: detection_threshold, detect.wavelet: "
              "threshold) or raise the limit");
    // A refused batch is not counted.
    EXPECT_EQ(error_of(g, {0}), "");
    EXPECT_EQ(g.fullest_count(), 3);
}

TEST(FrameGuard, SaysWhenTheLimitWasDerived) {
    FrameGuard g(1000, true);
    const std::string e = error_of(g, std::vector<int64_t>(1723, 7));
    EXPECT_NE(e.find("frame 7 has 1,723 detections, more than max_detections_per_frame (1,000, derived from this "
                     "machine's memory)"),
              std::string::npos)
        << e;
}

TEST(FrameGuard, RecordsTheFullestFrameAndWarnsPastHalfTheLimit) {
    FrameGuard g(10, true);
    g.add({2, 2, 3});
    EXPECT_EQ(nlohmann::json::parse(g.record_json()),
              nlohmann::json({{"max_detections_per_frame", 10}, {"derived", true}, {"fullest_frame", 2},
                              {"fullest_frame_detections", 2}}));
    EXPECT_EQ(g.warning(), "");
    g.add({3, 3, 3, 3, 3});
    EXPECT_EQ(g.fullest_frame(), 3);
    EXPECT_NE(g.warning().find("frame 3 has 6 detections, more than half of max_detections_per_frame (10)"),
              std::string::npos)
        << g.warning();
}

TEST(FrameGuard, ThousandsAndStatedLimits) {
    EXPECT_EQ(spotflow::tables::thousands(100), "100");
    EXPECT_EQ(spotflow::tables::thousands(1723), "1,723");
    EXPECT_EQ(spotflow::tables::thousands(-1234567), "-1,234,567");
    EXPECT_EQ(spotflow::tables::stated_frame_limit("{}"), 0);
    EXPECT_EQ(spotflow::tables::stated_frame_limit(R"({"max_gap": 2, "max_detections_per_frame": 7})"), 7);
    EXPECT_THROW(spotflow::tables::stated_frame_limit(R"({"max_detections_per_frame": -1})"), spotflow::PluginError);
    EXPECT_THROW(spotflow::tables::stated_frame_limit(R"({"max_detections_per_frame": 2.5})"), spotflow::PluginError);
    EXPECT_THROW(spotflow::tables::stated_frame_limit("not json"), spotflow::PluginError);
}

TEST(FrameGuard, DerivedLimitFallsWithTheMovieLength) {
    using spotflow::tables::whole_stream_frame_limit;
    const int64_t unknown = whole_stream_frame_limit(-1), short_movie = whole_stream_frame_limit(10),
                  long_movie = whole_stream_frame_limit(100000);
    EXPECT_GE(long_movie, 1);
    EXPECT_LT(long_movie, short_movie);
    EXPECT_LE(short_movie, unknown); // the frame-pair bound alone
    EXPECT_GT(short_movie, 1000);    // a normal movie never meets it
}

// One batch: `per_frame` detections in each of frames [first, first + frames).
void add_batch(spotflow::testing::NodeRunner& node, int64_t first, int64_t frames, int per_frame,
               spotflow_status expect, const spotflow::testing::FakeHost& host) {
    spotflow::TableBuilder b;
    const auto cf = b.add_column("frame", spotflow::ColumnType::Int64);
    const auto cx = b.add_column("x", spotflow::ColumnType::Float64);
    const auto cy = b.add_column("y", spotflow::ColumnType::Float64);
    for (int64_t t = first; t < first + frames; ++t)
        for (int k = 0; k < per_frame; ++k) {
            b.append_int(cf, t);
            b.append_double(cx, 10.0 * k + 0.1 * static_cast<double>(t));
            b.append_double(cy, 5.0);
        }
    spotflow::testing::OwnedPacket in;
    in.p.kind = SPOTFLOW_DATA_TABLE;
    in.p.info.total_frames = -1;
    b.finish(&in.p.schema, &in.p.array);
    EXPECT_EQ(node.process(0, in.p), expect) << host.error;
}

// One linker (the parameter: library, plugin id) with the given params.
class LinkerGuard : public ::testing::TestWithParam<std::pair<const char*, const char*>> {
protected:
    spotflow::testing::NodeRunner& start(const nlohmann::json& overrides) {
        const auto& desc = lib_.plugin(GetParam().second);
        node_ = std::make_unique<spotflow::testing::NodeRunner>(
            desc, host, spotflow::testing::params_with_defaults(desc, overrides).dump());
        EXPECT_TRUE(node_->created()) << host.error;
        return *node_;
    }
    nlohmann::json guard_record() const { return nlohmann::json::parse(host.records.at("runaway_guard")); }

    spotflow::testing::FakeHost host;

private:
    spotflow::testing::PluginLibrary lib_{GetParam().first};
    std::unique_ptr<spotflow::testing::NodeRunner> node_;
};

TEST_P(LinkerGuard, AFloodedFrameStopsTheRunWithOneLine) {
    auto& node = start({{"max_detections_per_frame", 4}});
    add_batch(node, 0, 3, 4, SPOTFLOW_OK, host);
    add_batch(node, 2, 1, 1, SPOTFLOW_ERR_INVALID_ARGUMENT, host);
    EXPECT_EQ(host.error.rfind("detections: frame 2 has 5 detections, more than max_detections_per_frame (4): ", 0), 0u)
        << host.error;
    EXPECT_TRUE(node.emitted.empty());
}

TEST_P(LinkerGuard, RecordsTheGuardAndWarnsNearTheLimit) {
    auto& node = start({{"max_detections_per_frame", 6}});
    add_batch(node, 0, 4, 4, SPOTFLOW_OK, host);
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.emitted.size(), 1u);
    EXPECT_EQ(node.emitted[0]->table().rows(), 16);
    const auto r = guard_record();
    EXPECT_EQ(r.at("max_detections_per_frame"), 6);
    EXPECT_EQ(r.at("derived"), false);
    EXPECT_EQ(r.at("fullest_frame_detections"), 4);
    bool warned = false;
    for (const auto& l : host.logs) warned |= l.find("more than half of max_detections_per_frame (6)") != std::string::npos;
    EXPECT_TRUE(warned);
}

TEST_P(LinkerGuard, DerivesTheLimitByDefault) {
    auto& node = start(nlohmann::json::object());
    add_batch(node, 0, 2, 3, SPOTFLOW_OK, host);
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    const auto r = guard_record();
    EXPECT_EQ(r.at("derived"), true);
    EXPECT_EQ(r.at("max_detections_per_frame").get<int64_t>(), spotflow::tables::whole_stream_frame_limit(-1));
    for (const auto& l : host.logs) EXPECT_EQ(l.find("max_detections_per_frame"), std::string::npos) << l;
}

INSTANTIATE_TEST_SUITE_P(BothLinkers, LinkerGuard,
                         ::testing::Values(std::make_pair(LINK_LAP_PATH, "link.lap"),
                                           std::make_pair(LINK_NEAREST_PATH, "link.nearest")),
                         [](const auto& info) { return std::string(info.index == 0 ? "lap" : "nearest"); });

} // namespace
