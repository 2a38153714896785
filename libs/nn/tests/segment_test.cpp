// Tiled segmentation prediction (spotflow_nn/segment.hpp) with known answers:
// tiles blended with the window agree with one whole-image pass (the
// issue's 1e-4 per pixel) whatever the tile grid; the windows; the plan's
// refusals; the normalisation; a segmentation weights file round trip.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include <torch/torch.h>

#include "spotflow_nn/segment.hpp"
#include "spotflow_nn/training.hpp"
#include "spotflow_nn/weights.hpp"

namespace nn = spotflow::nn;

namespace {

// A random-weight U-Net with non-trivial batch-norm statistics.
nn::UNet random_net(uint64_t seed) {
    nn::seed_everything(seed);
    nn::UNet net(nn::default_seg_unet());
    torch::NoGradGuard ng;
    for (auto& b : net->named_buffers()) {
        if (b.key().find("running_mean") != std::string::npos) b.value().uniform_(-0.2, 0.2);
        if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 2.0);
    }
    net->eval();
    return net;
}

std::vector<float> random_image(int64_t w, int64_t h, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> n(0, 1);
    std::vector<float> img(static_cast<size_t>(w * h));
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
            img[static_cast<size_t>(y * w + x)] = n(rng) + (std::hypot(x - w / 3.0, y - h / 2.0) < 20 ? 3.0f : 0.0f);
    return img;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double d = 0;
    for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(static_cast<double>(a[i]) - b[i]));
    return d;
}

} // namespace

TEST(Segment, ReceptiveRadiusOfTheDefaultNet) {
    // depth 3, 2 convs: encoder 2(1+2+4+8) + decoder 2(1+2+4) + pool/upsample 2(1+2+4)
    EXPECT_EQ(nn::receptive_radius(nn::default_seg_unet()), 30 + 14 + 14);
}

TEST(Segment, WindowIsZeroInTheMarginAndOneAtCanvasEdges) {
    const auto w = nn::tile_window(0, 200, 600, 58, 32);
    EXPECT_FLOAT_EQ(w[0], 1.0f);                // the canvas's own edge: no margin
    EXPECT_FLOAT_EQ(w[199 - 57], 0.0f);         // within the margin of the inner edge
    EXPECT_GT(w[199 - 58 - 16], 0.0f);          // on the ramp
    EXPECT_LT(w[199 - 58 - 16], 1.0f);
    const auto m = nn::tile_window(100, 200, 600, 58, 32);
    EXPECT_FLOAT_EQ(m[10], 0.0f);
    EXPECT_FLOAT_EQ(m[100], 1.0f);
}

TEST(Segment, TiledEqualsWholeImageAndDoesNotDependOnTheGrid) {
    torch::set_num_threads(1);
    nn::UNet net = random_net(5);
    const int64_t W = 301, H = 259; // not multiples of 8
    const auto img = random_image(W, H, 9);
    nn::TileOptions whole;
    whole.tile = 0;
    std::vector<float> ref(static_cast<size_t>(W * H)), a(ref.size()), b(ref.size());
    ASSERT_TRUE(nn::predict_tiled(net, img.data(), W, H, nn::plan_tiles(W, H, net->options(), whole), ref.data()));
    nn::TileOptions t1, t2;
    t1.tile = 208;
    t2.tile = 240;
    t2.ramp = 16;
    const auto p1 = nn::plan_tiles(W, H, net->options(), t1), p2 = nn::plan_tiles(W, H, net->options(), t2);
    EXPECT_GE(p1.tiles(), 4);
    EXPECT_NE(p1.tiles(), p2.tiles());
    ASSERT_TRUE(nn::predict_tiled(net, img.data(), W, H, p1, a.data()));
    ASSERT_TRUE(nn::predict_tiled(net, img.data(), W, H, p2, b.data()));
    EXPECT_LE(max_diff(a, ref), 1e-4);
    EXPECT_LE(max_diff(b, ref), 1e-4);
    // The maps are not trivially flat.
    const auto [lo, hi] = std::minmax_element(ref.begin(), ref.end());
    EXPECT_GT(*hi - *lo, 1e-3);
}

TEST(Segment, PlanRefusesTinyImagesAndOversizedSinglePasses) {
    const auto o = nn::default_seg_unet();
    nn::TileOptions t;
    EXPECT_THROW(nn::plan_tiles(1, 1, o, t), std::invalid_argument);
    try {
        nn::plan_tiles(1, 1, o, t);
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("1 x 1 px is too small"), std::string::npos) << e.what();
    }
    t.tile = 0;
    t.max_tile_pixels = 1000 * 1000;
    try {
        nn::plan_tiles(2000, 2000, o, t);
        ADD_FAILURE() << "no error";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("larger than the tile budget allows without tiling"), std::string::npos) << e.what();
    }
    t.tile = 100; // below 2 x 58 + 32
    EXPECT_THROW(nn::plan_tiles(2000, 2000, o, t), std::invalid_argument);
}

TEST(Segment, NormalisationIsPerImage) {
    std::vector<float> v = {1, 2, 3, 4};
    const auto z = nn::image_normalisation(v.data(), 4);
    EXPECT_DOUBLE_EQ(z.mean, 2.5);
    EXPECT_NEAR(z.std, std::sqrt(1.25), 1e-12);
    std::vector<float> flat(16, 7.0f);
    const auto zf = nn::image_normalisation(flat.data(), 16);
    const auto out = nn::normalised(flat.data(), 16, zf);
    for (float x : out) EXPECT_TRUE(std::isfinite(x));
}

TEST(Segment, WeightsRoundTripAndForeignFilesAreNamed) {
    const auto dir = std::filesystem::temp_directory_path() / ("seg_w_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    nn::UNet net = random_net(1);
    nn::SegNetwork n;
    n.unet = net->options();
    n.threshold = 0.4;
    const std::string path = (dir / "m.sfw").string();
    nn::save_weights(path, n.to_json(), *net, {{"note", "test"}});
    const nn::SegModel m = nn::load_seg_model(path);
    EXPECT_DOUBLE_EQ(m.network.threshold, 0.4);
    EXPECT_EQ(m.model_card.value("note", ""), "test");
    const std::string other = (dir / "o.sfw").string();
    nn::save_weights(other, {{"task", "detection"}}, *net, {});
    try {
        nn::load_seg_model(other);
        ADD_FAILURE() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("o.sfw': not a segmentation network"), std::string::npos) << e.what();
    }
    std::filesystem::remove_all(dir);
}
