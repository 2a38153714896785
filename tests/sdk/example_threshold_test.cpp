// The SDK's example plugin, example.threshold, driven through its ABI with
// the plugin harness: detections on synthetic frames with known spots.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugin_harness.hpp"

namespace {

using spotflow::testing::FakeHost;
using spotflow::testing::NodeRunner;
using spotflow::testing::PluginLibrary;

struct Spot {
    double x, y, amplitude;
};

// A movie chunk as a source emits it; the node only borrows it.
struct Chunk {
    spotflow_packet p{};
    Chunk(DLManagedTensor* t, int64_t frame_offset) {
        p.kind = SPOTFLOW_DATA_TENSOR;
        p.tensor = t;
        p.info.frame_offset = frame_offset;
        p.info.frame_count = t->dl_tensor.shape[0];
        p.info.total_frames = 100;
        p.info.pixel_size_nm = 108;
    }
    ~Chunk() { spotflow::release_tensor(p.tensor); }
};

// Frames of h x w pixels: a flat background, Gaussian spots (sigma 0.8 px,
// sampled at pixel centres) and Gaussian noise, rounded for integer types.
template <class T>
DLManagedTensor* movie(int64_t frames, int64_t h, int64_t w, const std::vector<Spot>& spots, double noise,
                       uint32_t seed = 1) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> gauss(0.0, noise);
    std::vector<T> px(static_cast<size_t>(frames * h * w));
    for (size_t i = 0; i < px.size(); ++i) {
        const double x = static_cast<double>(static_cast<int64_t>(i) % w);
        const double y = static_cast<double>(static_cast<int64_t>(i) / w % h);
        double v = 100 + (noise > 0 ? gauss(rng) : 0);
        for (const Spot& s : spots)
            v += s.amplitude * std::exp(-((x - s.x) * (x - s.x) + (y - s.y) * (y - s.y)) / (2 * 0.8 * 0.8));
        px[i] = static_cast<T>(std::is_integral_v<T> ? std::round(v) : v);
    }
    return spotflow::make_tensor<T>({frames, h, w}, std::move(px));
}

class ExampleThreshold : public ::testing::Test {
protected:
    PluginLibrary lib{PLUGIN_PATH};
    const spotflow_plugin_desc& desc = lib.plugin("example.threshold");
    FakeHost host;
};

TEST_F(ExampleThreshold, DescribesItself) {
    EXPECT_STREQ(desc.version, "1.0.0");
    EXPECT_STREQ(desc.kind, "detector");
    ASSERT_EQ(desc.n_inputs, 1u);
    EXPECT_STREQ(desc.inputs[0].name, "movie");
    EXPECT_STREQ(desc.inputs[0].type, SPOTFLOW_TYPE_MOVIE);
    EXPECT_EQ(desc.inputs[0].kind, SPOTFLOW_DATA_TENSOR);
    ASSERT_EQ(desc.n_outputs, 1u);
    EXPECT_STREQ(desc.outputs[0].name, "detections");
    EXPECT_STREQ(desc.outputs[0].type, SPOTFLOW_TYPE_DETECTIONS);
    EXPECT_EQ(desc.outputs[0].kind, SPOTFLOW_DATA_TABLE);
    ASSERT_NE(desc.node, nullptr);
    EXPECT_EQ(desc.node->pull, nullptr);
    EXPECT_EQ(desc.loss, nullptr);

    // The schema is hand-written JSON inside a C string: parse it.
    const auto schema = nlohmann::json::parse(desc.params_schema);
    EXPECT_EQ(schema["additionalProperties"], false);
    EXPECT_EQ(schema["properties"]["threshold"]["default"], 6);
    EXPECT_EQ(schema["properties"]["border"]["default"], 2);
}

TEST_F(ExampleThreshold, FindsGaussianSpotsWithinTolerance) {
    // Nine bright spots, 20 px apart, at sub-pixel offsets up to 0.3 px.
    std::vector<Spot> spots;
    for (int i = 0; i < 9; ++i)
        spots.push_back({12 + 20 * (i % 3) + 0.3 * std::sin(i), 12 + 20 * (i / 3) - 0.3 * std::cos(2 * i), 1000});
    Chunk in(movie<uint16_t>(1, 64, 64, spots, 3.0), 0);
    NodeRunner node(desc, host, R"({"threshold": 6, "border": 2})");
    ASSERT_TRUE(node.created()) << host.error;
    ASSERT_EQ(node.process(0, in.p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.emitted.size(), 1u);

    const auto t = node.emitted[0]->table();
    ASSERT_EQ(t.rows(), 9);
    const int64_t frame = t.require("frame"), x = t.require("x"), y = t.require("y");
    for (const Spot& s : spots) {
        int64_t found = -1;
        for (int64_t r = 0; r < t.rows(); ++r)
            if (std::hypot(t.get_double(x, r) - s.x, t.get_double(y, r) - s.y) < 1) found = r;
        ASSERT_GE(found, 0) << "no detection near (" << s.x << ", " << s.y << ")";
        EXPECT_NEAR(t.get_double(x, found), s.x, 0.15);
        EXPECT_NEAR(t.get_double(y, found), s.y, 0.15);
        EXPECT_EQ(t.get_int(frame, found), 0);
        EXPECT_NEAR(t.get_double(t.require("background"), found), 100, 1);
        EXPECT_GT(t.get_double(t.require("intensity"), found), 2000);
    }
}

TEST_F(ExampleThreshold, NoFalsePositivesOnFlatNoise) {
    Chunk in(movie<float>(4, 128, 128, {}, 10.0), 0);
    NodeRunner node(desc, host, R"({"threshold": 6, "border": 2})");
    ASSERT_EQ(node.process(0, in.p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.emitted.size(), 1u); // an empty batch still goes out, with its columns
    const auto t = node.emitted[0]->table();
    EXPECT_EQ(t.rows(), 0);
    ASSERT_EQ(t.columns(), 5);
    const char* names[] = {"frame", "x", "y", "intensity", "background"};
    for (int64_t c = 0; c < 5; ++c) {
        EXPECT_EQ(t.column_name(c), names[c]);
        EXPECT_EQ(t.column_format(c), c == 0 ? 'l' : 'g');
    }
}

TEST_F(ExampleThreshold, FramesCountFromTheChunkOffset) {
    NodeRunner node(desc, host, R"({"threshold": 6, "border": 2})");
    // Two chunks of one movie: frames 0-1, then 2-4; one spot per frame.
    Chunk first(movie<uint16_t>(2, 16, 16, {{8, 8, 500}}, 1.0), 0);
    Chunk second(movie<uint16_t>(3, 16, 16, {{8, 8, 500}}, 1.0), 2);
    ASSERT_EQ(node.process(0, first.p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.process(0, second.p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.finish(), SPOTFLOW_OK);
    ASSERT_EQ(node.emitted.size(), 2u);

    const spotflow_packet& out = node.emitted[1]->p;
    EXPECT_EQ(out.kind, SPOTFLOW_DATA_TABLE);
    EXPECT_EQ(out.info.frame_offset, 2); // the chunk's stream info travels on
    EXPECT_EQ(out.info.frame_count, 3);
    EXPECT_EQ(out.info.total_frames, 100);
    EXPECT_EQ(out.info.pixel_size_nm, 108);
    const auto t = node.emitted[1]->table();
    ASSERT_EQ(t.rows(), 3);
    for (int64_t r = 0; r < 3; ++r) EXPECT_EQ(t.get_int(t.require("frame"), r), 2 + r);
    EXPECT_EQ(node.emitted[0]->table().get_int(0, 1), 1);
}

template <class T> void expect_one_spot(const spotflow_plugin_desc& desc, double background_offset = 0) {
    FakeHost host;
    NodeRunner node(desc, host, R"({"threshold": 6, "border": 2})");
    DLManagedTensor* m = movie<T>(1, 12, 12, {{5.2, 6.1, 100}}, 2.0);
    T* px = static_cast<T*>(m->dl_tensor.data);
    for (int i = 0; i < 144; ++i) px[i] = static_cast<T>(px[i] - background_offset); // reach negative values
    Chunk in(m, 0);
    ASSERT_EQ(node.process(0, in.p), SPOTFLOW_OK) << host.error;
    const auto t = node.emitted.at(0)->table();
    ASSERT_EQ(t.rows(), 1);
    EXPECT_NEAR(t.get_double(1, 0), 5.2, 0.15);
    EXPECT_NEAR(t.get_double(2, 0), 6.1, 0.15);
    EXPECT_NEAR(t.get_double(4, 0), 100 - background_offset, 2);
}

TEST_F(ExampleThreshold, AcceptsEveryListedPixelType) {
    expect_one_spot<uint8_t>(desc);
    expect_one_spot<uint16_t>(desc);
    expect_one_spot<uint32_t>(desc);
    expect_one_spot<int16_t>(desc, 150);
    expect_one_spot<int32_t>(desc, 150);
    expect_one_spot<float>(desc, 150);
    expect_one_spot<double>(desc, 150);
}

TEST_F(ExampleThreshold, RejectsOtherPixelTypesByName) {
    NodeRunner node(desc, host, R"({"threshold": 6, "border": 2})");
    const std::pair<DLDataType, const char*> rejected[] = {
        {{kDLInt, 8, 1}, "int8"}, {{kDLUInt, 64, 1}, "uint64"}, {{kDLFloat, 16, 1}, "float16"},
        {{kDLFloat, 32, 2}, "float32x2"}};
    for (const auto& [dtype, name] : rejected) {
        Chunk in(spotflow::make_tensor<int64_t>({1, 4, 4}), 0); // storage; the dtype below is what counts
        in.p.tensor->dl_tensor.dtype = dtype;
        EXPECT_EQ(node.process(0, in.p), SPOTFLOW_ERR_UNSUPPORTED);
        EXPECT_EQ(host.error_status, SPOTFLOW_ERR_UNSUPPORTED);
        EXPECT_NE(host.error.find(std::string("pixel type ") + name + ";"), std::string::npos) << host.error;
    }
    EXPECT_TRUE(node.emitted.empty());
}

TEST_F(ExampleThreshold, BorderIgnoresMaximaNearTheEdge) {
    Chunk in(movie<float>(1, 16, 16, {{2, 8, 500}, {10, 8, 500}}, 0.0), 0);
    NodeRunner wide(desc, host, R"({"threshold": 6, "border": 3})");
    ASSERT_EQ(wide.process(0, in.p), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(wide.emitted.at(0)->table().rows(), 1);
    NodeRunner none(desc, host, R"({"border": 0, "threshold": 6})"); // acts as 1: the 3x3 still fits
    ASSERT_EQ(none.process(0, in.p), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(none.emitted.at(0)->table().rows(), 2);
}

TEST_F(ExampleThreshold, IncompleteParamsFailCreate) {
    NodeRunner node(desc, host, R"({"threshold": 6})");
    EXPECT_FALSE(node.created());
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(host.error.find("'border'"), std::string::npos) << host.error;
}

} // namespace
