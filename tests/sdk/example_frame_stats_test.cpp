// The SDK's C++ example plugin, example.frame_stats, driven through its ABI
// with the plugin harness: per-frame mean and max with known answers.
#include <gtest/gtest.h>

#include <vector>

#include "plugin_harness.hpp"

namespace {

using spotflow::testing::FakeHost;
using spotflow::testing::NodeRunner;
using spotflow::testing::PluginLibrary;

struct Chunk {
    spotflow_packet p{};
    Chunk(DLManagedTensor* t, int64_t frame_offset) {
        p.kind = SPOTFLOW_DATA_TENSOR;
        p.tensor = t;
        p.info.frame_offset = frame_offset;
        p.info.frame_count = t->dl_tensor.shape[0];
    }
    ~Chunk() { spotflow::release_tensor(p.tensor); }
};

TEST(ExampleFrameStats, MeanAndMaxPerFrameAfterTheOffset) {
    PluginLibrary lib(PLUGIN_PATH);
    const spotflow_plugin_desc& d = lib.plugin("example.frame_stats");
    FakeHost host;
    NodeRunner node(d, host, R"({"offset": 10})");
    ASSERT_TRUE(node.created()) << host.error;
    // Two 2x2 frames starting at frame 5: {10, 12, 14, 16} and {20, 20, 20, 24}.
    Chunk c(spotflow::make_tensor<uint16_t>({2, 2, 2}, {10, 12, 14, 16, 20, 20, 20, 24}), 5);
    ASSERT_EQ(node.process(0, c.p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.emitted.size(), 1u);
    const auto t = node.emitted[0]->table();
    ASSERT_EQ(t.rows(), 2);
    EXPECT_EQ(t.get_int(t.require("frame"), 0), 5);
    EXPECT_EQ(t.get_int(t.require("frame"), 1), 6);
    EXPECT_DOUBLE_EQ(t.get_double(t.require("mean"), 0), 3.0);
    EXPECT_DOUBLE_EQ(t.get_double(t.require("max"), 0), 6.0);
    EXPECT_DOUBLE_EQ(t.get_double(t.require("mean"), 1), 11.0);
    EXPECT_DOUBLE_EQ(t.get_double(t.require("max"), 1), 14.0);
}

TEST(ExampleFrameStats, ANonMovieChunkIsOneLineNamingTheFrame) {
    PluginLibrary lib(PLUGIN_PATH);
    FakeHost host;
    NodeRunner node(lib.plugin("example.frame_stats"), host, R"({"offset": 0})");
    Chunk c(spotflow::make_tensor<float>({4}, {1, 2, 3, 4}), 7);
    EXPECT_EQ(node.process(0, c.p), SPOTFLOW_ERR_UNSUPPORTED);
    EXPECT_EQ(host.error, "chunk at frame 7 is not a compact T x H x W movie");
}

} // namespace
