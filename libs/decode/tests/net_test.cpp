// The network's outputs, the weights file and the post-processing, directly.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "spotflow_decode/net.hpp"
#include "spotflow_decode/postprocess.hpp"


namespace {

decode::NetConfig small() {
    decode::NetConfig c;
    c.frame_channels = 4;
    c.temporal_channels = 6;
    c.head_channels = 5;
    return c;
}

TEST(DecodeNet, OutputShapesAndRanges) {
    torch::manual_seed(1);
    decode::DecodeNet net(small());
    net->eval();
    torch::NoGradGuard ng;
    // Large inputs drive every activation towards its bounds.
    const auto x = torch::randn({2, 3, 16, 24}) * 50;
    const auto o = net->forward(x);
    ASSERT_EQ(o.sizes().vec(), (std::vector<int64_t>{2, decode::kChannels, 16, 24}));
    const auto& c = net->config();
    const auto ch = [&](int64_t i) { return o.select(1, i); };
    EXPECT_GE(ch(decode::kProb).min().item<float>(), 1 / (1 + std::exp(8.0f)) - 1e-6f);
    EXPECT_LE(ch(decode::kProb).max().item<float>(), 1 / (1 + std::exp(-8.0f)) + 1e-6f);
    EXPECT_GE(ch(decode::kPhotons).min().item<float>(), 0);
    EXPECT_LE(ch(decode::kPhotons).max().item<float>(), c.photons_max / c.photon_scale);
    for (auto i : {decode::kDx, decode::kDy}) {
        EXPECT_GE(ch(i).min().item<float>(), -1);
        EXPECT_LE(ch(i).max().item<float>(), 1);
    }
    for (auto i : {decode::kSigPhotons, decode::kSigX, decode::kSigY}) {
        EXPECT_GE(ch(i).min().item<float>(), 0.001f - 1e-6f);
        EXPECT_LE(ch(i).max().item<float>(), 3.001f + 1e-5f);
    }
    EXPECT_GE(ch(decode::kBackground).min().item<float>(), 0);
    EXPECT_LE(ch(decode::kBackground).max().item<float>(), c.background_max / c.input_scale + 1e-5f);
    // A fresh network starts with p near sigmoid(-6), as DECODE.
    const auto p0 = net->forward(torch::zeros({1, 3, 16, 16})).select(1, 0).mean().item<float>();
    EXPECT_LT(p0, 0.05f);
}

TEST(DecodeNet, StreamedFeaturesGiveTheSameOutputsAsWindows) {
    torch::manual_seed(2);
    decode::DecodeNet net(small());
    net->eval();
    torch::NoGradGuard ng;
    const auto x = torch::randn({1, 3, 8, 8});
    const auto f = net->frame_features(x.reshape({3, 1, 8, 8}));
    const auto a = net->outputs(f[0].unsqueeze(0), f[1].unsqueeze(0), f[2].unsqueeze(0));
    EXPECT_TRUE(torch::allclose(a, net->forward(x), 1e-5, 1e-6));
    net->to_channels_last();
    const auto fc = net->frame_features(x.reshape({3, 1, 8, 8}).contiguous(at::MemoryFormat::ChannelsLast));
    EXPECT_TRUE(torch::allclose(net->outputs(fc[0].unsqueeze(0), fc[1].unsqueeze(0), fc[2].unsqueeze(0)), a, 1e-4, 1e-5));
}

TEST(DecodeNet, CountsMultiplyAdds) {
    decode::DecodeNet net(decode::NetConfig{});
    // The defaults: see docs/decode.md.
    EXPECT_GT(net->macs_per_pixel_streamed(), 10000);
    EXPECT_LT(net->macs_per_pixel_streamed(), 100000);
    EXPECT_GT(net->macs_per_pixel_window(), net->macs_per_pixel_streamed());
}

TEST(DecodeWeights, RoundTripKeepsEveryTensorAndTheMetadata) {
    torch::manual_seed(3);
    decode::DecodeNet net(small());
    const auto path = (std::filesystem::temp_directory_path() / "decode_net_test.sfw").string();
    decode::save_weights(net, {{"note", "x"}}, path);
    const auto l = decode::load_weights(path);
    EXPECT_EQ(l.metadata["note"], "x");
    EXPECT_EQ(l.net->config().temporal_channels, 6);
    const auto a = decode::named_parameters(net), b = decode::named_parameters(const_cast<decode::DecodeNet&>(l.net));
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
    std::remove(path.c_str());
}

// Output maps of one h x w frame, all zero until set.
struct Maps {
    int64_t h, w;
    std::vector<float> m;
    Maps(int64_t h_, int64_t w_) : h(h_), w(w_), m(static_cast<size_t>(decode::kChannels * h_ * w_), 0.0f) {}
    void set(int64_t c, int64_t y, int64_t x, float v) { m[static_cast<size_t>((c * h + y) * w + x)] = v; }
    // A pixel predicting an emitter: p, offsets, and one sigma for x and y.
    void component(int64_t x, int64_t y, float p, float dx, float dy, float sigma) {
        set(0, y, x, p), set(2, y, x, dx), set(3, y, x, dy), set(5, y, x, sigma), set(6, y, x, sigma);
    }
    std::vector<decode::Localisation> post(const decode::PostSettings& s) const { return decode::postprocess(m.data(), h, w, s); }
};

TEST(DecodePost, IntegratesTheNeighbourhoodAndSplitsAdjacentEmitters) {
    const int64_t h = 6, w = 7, n = h * w;
    std::vector<float> m(static_cast<size_t>(decode::kChannels * n), 0.0f);
    auto set = [&](int64_t c, int64_t y, int64_t x, float v) { m[static_cast<size_t>(c * n + y * w + x)] = v; };
    // One emitter spread over (2, 2) and its right neighbour: one maximum,
    // integrated p = 0.45 + 0.3 = 0.75.
    set(0, 2, 2, 0.45f);
    set(0, 2, 3, 0.3f);
    set(2, 2, 2, 0.25f);
    set(3, 2, 2, -0.5f);
    set(1, 2, 2, 2.0f);
    set(5, 2, 2, 0.05f);
    // Two emitters in adjacent pixels, both above split_threshold.
    set(0, 4, 5, 0.9f);
    set(0, 4, 6, 0.8f);
    decode::PostSettings s;
    s.photon_scale = 1000;
    const auto d = decode::postprocess(m.data(), h, w, s);
    ASSERT_EQ(d.size(), 3u);
    EXPECT_NEAR(d[0].probability, 0.75, 1e-6);
    EXPECT_NEAR(d[0].x, 2.25, 1e-6);
    EXPECT_NEAR(d[0].y, 1.5, 1e-6);
    EXPECT_NEAR(d[0].photons, 2000, 1e-3);
    EXPECT_NEAR(d[0].x_sigma, 0.05, 1e-6);
    EXPECT_NEAR(d[1].x, 5, 1e-6);
    EXPECT_NEAR(d[1].probability, 1.0, 1e-6); // clamped sum
    EXPECT_NEAR(d[2].x, 6, 1e-6);
    // A lone pixel below the threshold gives nothing.
    std::vector<float> z(static_cast<size_t>(decode::kChannels * n), 0.0f);
    z[10] = 0.49f;
    EXPECT_TRUE(decode::postprocess(z.data(), h, w, s).empty());
}

TEST(DecodePost, SquareIntegrationKeepsAnEmitterSpreadOverAPixelCorner) {
    // An emitter at a pixel corner, its p over a 2x2 block: the plus shape
    // around the maximum sums 3 of the 4 pixels, the square all of them.
    Maps m(6, 6);
    m.set(0, 2, 2, 0.16f), m.set(0, 2, 3, 0.15f), m.set(0, 3, 2, 0.15f), m.set(0, 3, 3, 0.14f);
    decode::PostSettings s;
    const auto square = m.post(s);
    ASSERT_EQ(square.size(), 1u);
    EXPECT_NEAR(square[0].probability, 0.60, 1e-6);
    EXPECT_NEAR(square[0].x, 2, 1e-6);
    EXPECT_NEAR(square[0].y, 2, 1e-6);
    s.integration = decode::Integration::Plus;
    EXPECT_TRUE(m.post(s).empty()); // 0.46 < 0.5
    s.detection_threshold = 0.45;
    const auto plus = m.post(s);
    ASSERT_EQ(plus.size(), 1u);
    EXPECT_NEAR(plus[0].probability, 0.46, 1e-6);
}

TEST(DecodePost, MixturePositionWeighsTheAgreeingComponentsByPrecision) {
    Maps m(6, 6);
    // Pixels (x 2, y 2) and (x 3, y 2) see one emitter; (x 2, y 3) predicts
    // a point 1 px away (another emitter) and must stay out.
    m.component(2, 2, 0.6f, 0.5f, 0.0f, 0.1f);  // predicts (2.5, 2.0), weight 0.6 / 0.02 = 30
    m.component(3, 2, 0.3f, -0.7f, 0.0f, 0.1f); // predicts (2.3, 2.0), weight 0.3 / 0.02 = 15
    m.component(2, 3, 0.05f, 0.5f, 0.0f, 0.1f); // predicts (2.5, 3.0): 1 px off
    decode::PostSettings s;
    const auto mixed = m.post(s);
    ASSERT_EQ(mixed.size(), 1u);
    EXPECT_NEAR(mixed[0].x, (30 * 2.5 + 15 * 2.3) / 45, 1e-6);
    EXPECT_NEAR(mixed[0].y, 2.0, 1e-6);
    EXPECT_NEAR(mixed[0].x_sigma, 0.1, 1e-6); // the candidate pixel's
    s.position = decode::Position::Pixel;
    const auto pixel = m.post(s);
    ASSERT_EQ(pixel.size(), 1u);
    EXPECT_NEAR(pixel[0].x, 2.5, 1e-6);
}

TEST(DecodePost, AdjacentCandidatesPredictingOnePositionAreOneDetection) {
    // An emitter on the boundary between pixels x 2 and x 3 (row 2): both
    // above split_threshold, both predicting x = 2.5. One detection, the
    // higher p's.
    Maps m(6, 6);
    m.component(2, 2, 0.65f, 0.5f, 0.0f, 0.1f);
    m.component(3, 2, 0.7f, -0.5f, 0.0f, 0.1f);
    m.set(1, 2, 2, 1.0f), m.set(1, 2, 3, 2.0f); // photons, to tell them apart
    decode::PostSettings s;
    s.photon_scale = 1000;
    const auto d = m.post(s);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_NEAR(d[0].x, 2.5, 1e-6);
    EXPECT_NEAR(d[0].photons, 2000, 1e-3); // read at x 3, the higher p
    s.merge_agreeing = false;                // DECODE's: both stay
    EXPECT_EQ(m.post(s).size(), 2u);
    s.merge_agreeing = true;
    // The same pixels predicting points 1 px apart are two emitters.
    m.set(2, 2, 2, 0.0f), m.set(2, 2, 3, 0.0f);
    EXPECT_EQ(m.post(s).size(), 2u);
}

} // namespace
