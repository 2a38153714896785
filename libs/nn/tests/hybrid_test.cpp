// The hybrid network: shapes and output ranges, its size, the shared U-Net
// halves computing what the U-Net computes, pretrained parts (1 -> 2 input
// channels) and the "another architecture" errors.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include <torch/torch.h>

#include "spotflow_nn/hybrid.hpp"
#include "spotflow_nn/training.hpp"
#include "spotflow_nn/unet.hpp"
#include "spotflow_nn/weights.hpp"

namespace fs = std::filesystem;
using namespace spotflow::nn;

namespace {

HybridOptions small(int channels) {
    HybridOptions o;
    o.in_channels = channels;
    o.base_channels = 4;
    o.depth = 2;
    o.head_channels = 4;
    return o;
}

int64_t count(torch::nn::Module& m) {
    int64_t n = 0;
    for (const auto& p : m.parameters()) n += p.numel();
    return n;
}

fs::path temp(const std::string& name) { return fs::temp_directory_path() / ("hybrid_test_" + std::to_string(getpid()) + "_" + name); }

TEST(Hybrid, ShapesAndOutputRanges) {
    torch::manual_seed(1);
    HybridNet net(small(2));
    const auto photons = torch::rand({2, 5, 2, 16, 16}) * 100;
    const auto x = net->normalise(photons);
    ASSERT_EQ(x.sizes(), (std::vector<int64_t>{2, 10, 16, 16}));
    const auto out = net->forward(x);
    ASSERT_EQ(out.localisation.sizes(), (std::vector<int64_t>{2, 8, 16, 16}));
    ASSERT_EQ(out.calcium.sizes(), (std::vector<int64_t>{2, 1, 16, 16}));
    const auto p = out.localisation.select(1, kHProb);
    EXPECT_GT(p.min().item<float>(), 0.0f);
    EXPECT_LT(p.max().item<float>(), 1.0f);
    EXPECT_LE(out.localisation.narrow(1, kHDx, 2).abs().max().item<float>(), 1.0f);
    EXPECT_GT(out.localisation.narrow(1, kHSigPhotons, 3).min().item<float>(), 0.0f);
    // The channel order is frame-major: frame t's calcium is input 2t + 1.
    EXPECT_NEAR(x[0][3][4][5].item<float>(), (photons[0][1][1][4][5].item<float>() - 10) / 40, 1e-5);
    EXPECT_THROW(net->forward(torch::zeros({1, 5, 16, 16})), std::invalid_argument);
}

// The seed's network (16 base channels, 5 frames, 2 channels): ~2.4 M
// parameters in the seed's count; ours, with depth 4, is 2.82 M (printed).
TEST(Hybrid, DefaultSizeIsTheSeeds) {
    HybridOptions o;
    o.in_channels = 2;
    HybridNet net(o);
    const int64_t enc = [&] { int64_t n = 0; for (auto& p : net->encoder_parameters()) n += p.numel(); return n; }();
    const int64_t loc = [&] { int64_t n = 0; for (auto& p : net->localisation_parameters()) n += p.numel(); return n; }();
    const int64_t ca = [&] { int64_t n = 0; for (auto& p : net->calcium_parameters()) n += p.numel(); return n; }();
    std::printf("hybrid parameters: encoder %lld, localisation %lld, calcium %lld, total %lld; %lld multiply-adds per pixel\n",
                static_cast<long long>(enc), static_cast<long long>(loc), static_cast<long long>(ca),
                static_cast<long long>(count(*net)), static_cast<long long>(net->macs_per_pixel()));
    EXPECT_EQ(enc + loc + ca, count(*net));
    EXPECT_GT(count(*net), 2000000);
    EXPECT_LT(count(*net), 3000000);
}

// An encoder and a decoder of the same options, built from the same seed,
// are the U-Net (same initialisation order, same forward).
TEST(Hybrid, EncoderAndDecoderAreTheUNet) {
    UNetOptions u;
    u.in_channels = 3;
    u.base_channels = 4;
    u.depth = 2;
    torch::manual_seed(7);
    UNet whole(u);
    torch::manual_seed(7);
    UNetEncoder enc(u);
    UNetDecoder dec(u);
    const auto x = torch::randn({1, 3, 8, 8});
    EXPECT_TRUE(torch::allclose(whole->forward(x), dec->forward(enc->forward(x))));
    EXPECT_EQ(whole->macs_per_pixel(), enc->macs_per_pixel() + dec->macs_per_pixel());
}

// Stage 1's one-channel network into stage 2's two-channel one: the
// localisation output is unchanged whatever the calcium channel holds.
TEST(Hybrid, PretrainedOneChannelIntoTwo) {
    torch::manual_seed(3);
    HybridNet one(small(1));
    const auto path = temp("one.sfw");
    save_weights(path.string(), one->options().to_json(), *one, {{"test", true}});
    torch::manual_seed(4);
    HybridNet two(small(2));
    load_pretrained(read_weights(path.string()), two, Pretrained::EncoderAndLocalisation);
    const auto puncta = torch::rand({1, 5, 1, 16, 16}) * 100;
    const auto both = torch::cat({puncta, torch::rand({1, 5, 1, 16, 16}) * 300}, 2);
    torch::NoGradGuard g;
    EXPECT_TRUE(torch::allclose(one->forward(one->normalise(puncta)).localisation,
                                two->forward(two->normalise(both)).localisation, 1e-5, 1e-6));
    fs::remove(path);
}

TEST(Hybrid, AnotherArchitectureFailsNamingIt) {
    HybridNet a(small(1));
    HybridOptions deeper = small(1);
    deeper.depth = 3;
    HybridNet b(deeper);
    const auto path = temp("deep.sfw");
    save_weights(path.string(), b->options().to_json(), *b, {});
    try {
        load_pretrained(read_weights(path.string()), a, Pretrained::Encoder);
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("another architecture: depth 3 in the file, 2 here"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos);
    }
    // A DECODE file (no "architecture": hybrid).
    UNet u(UNetOptions{});
    save_weights(path.string(), {{"frame_channels", 12}}, *u, {});
    try {
        load_pretrained(read_weights(path.string()), a, Pretrained::Encoder);
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("another architecture: a '(none)' network, not a hybrid one"), std::string::npos)
            << e.what();
    }
    // Two channels into one, and All across channel counts.
    HybridNet two(small(2));
    save_weights(path.string(), two->options().to_json(), *two, {});
    EXPECT_THROW(load_pretrained(read_weights(path.string()), a, Pretrained::Encoder), std::runtime_error);
    save_weights(path.string(), a->options().to_json(), *a, {});
    EXPECT_THROW(load_pretrained(read_weights(path.string()), two, Pretrained::All), std::runtime_error);
    fs::remove(path);
}

TEST(Hybrid, OptionsRoundTripAndBadFields) {
    HybridOptions o = small(2);
    o.calcium_scale = 55;
    const auto back = HybridOptions::from_json(o.to_json());
    EXPECT_EQ(back.to_json(), o.to_json());
    auto j = o.to_json();
    j["frames"] = 4;
    EXPECT_THROW(HybridOptions::from_json(j), std::invalid_argument);
    j = o.to_json();
    j["in_channels"] = 3;
    EXPECT_THROW(HybridOptions::from_json(j), std::invalid_argument);
}

} // namespace
