// loss.focal and loss.focal_dice through their ABI, as a trainer gets them.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "plugin_harness.hpp"

namespace {

using namespace spotflow::testing;
using Tensor = std::unique_ptr<DLManagedTensor, void (*)(DLManagedTensor*)>;

template <class T> Tensor tensor(std::vector<int64_t> shape, std::vector<T> data) {
    return Tensor(spotflow::make_tensor<T>(std::move(shape), std::move(data)), spotflow::release_tensor);
}

class Loss : public ::testing::Test {
protected:
    void TearDown() override {
        if (self) vt->destroy(self);
    }
    void make(const char* id, const std::string& params) {
        if (self) vt->destroy(self);
        vt = lib.plugin(id).loss;
        self = vt->create(host.get(), params.c_str());
        ASSERT_NE(self, nullptr) << host.error;
    }
    spotflow_status run(const std::vector<float>& z, const std::vector<float>& y, double* loss,
                        std::vector<float>* g = nullptr, const std::vector<uint8_t>* m = nullptr) {
        const std::vector<int64_t> shape{static_cast<int64_t>(z.size())};
        auto zt = tensor<float>(shape, z), yt = tensor<float>(shape, y);
        auto gt = tensor<float>(shape, std::vector<float>(z.size(), 7.0f));
        auto mt = tensor<uint8_t>(shape, m ? *m : std::vector<uint8_t>(z.size(), 1));
        const DLTensor* preds[] = {&zt->dl_tensor};
        const DLTensor* targets[] = {&yt->dl_tensor};
        DLTensor* grads[] = {&gt->dl_tensor};
        const spotflow_loss_io io{preds, targets, 1, 1, m ? &mt->dl_tensor : nullptr, g ? grads : nullptr};
        const spotflow_status st = vt->compute(self, &io, loss);
        if (g) {
            const float* gd = static_cast<const float*>(gt->dl_tensor.data);
            g->assign(gd, gd + z.size());
        }
        return st;
    }
    double loss_of(const std::vector<float>& z, const std::vector<float>& y, const std::vector<uint8_t>* m = nullptr) {
        double l = NAN;
        EXPECT_EQ(run(z, y, &l, nullptr, m), SPOTFLOW_OK) << host.error;
        return l;
    }
    double component(int i, const char* expect_name) {
        const char* name = nullptr;
        double v = NAN;
        EXPECT_EQ(vt->component(self, i, &name, &v), SPOTFLOW_OK) << host.error;
        EXPECT_STREQ(name, expect_name);
        return v;
    }

    PluginLibrary lib{PLUGIN_PATH};
    const spotflow_loss_vtable* vt = nullptr;
    FakeHost host;
    void* self = nullptr;
};

constexpr const char* kDefaults =
    R"({"alpha": 0.25, "gamma": 2.0, "pos_weight": 1.0, "eps": 1e-8, "focal_weight": 0.7, "dice_weight": 0.3, "dice_smooth": 1.0})";

TEST_F(Loss, KnownValuesOnTinyInputs) {
    make("loss.focal_dice", kDefaults);
    const double l2 = std::log(2.0);
    // z = 0, y = 1: p_t = 1/2, FL = 0.25 * 0.25 * log 2; Dice = (1 + 1)/(0.5 + 1 + 1) = 0.8.
    const double focal1 = 0.0625 * l2 / (1 + 1e-8);
    EXPECT_NEAR(loss_of({0}, {1}), 0.7 * focal1 + 0.3 * 0.2, 1e-12);
    EXPECT_NEAR(component(0, "focal"), focal1, 1e-12);
    EXPECT_NEAR(component(1, "dice"), 0.2, 1e-12);
    EXPECT_NEAR(component(2, "total"), 0.7 * focal1 + 0.3 * 0.2, 1e-12);
    // z = 0, y = 0: FL = 0.75 * 0.25 * log 2; Dice = 1/(0.5 + 0 + 1).
    EXPECT_NEAR(loss_of({0}, {0}), 0.7 * 0.1875 * l2 / (1 + 1e-8) + 0.3 * (1 - 1 / 1.5), 1e-12);
    // Two elements z = (2, -1), y = (1, 0), by hand.
    const double s1 = 1 / (1 + std::exp(-2.0)), s2 = 1 / (1 + std::exp(1.0));
    const double fl1 = 0.25 * std::pow(1 - s1, 2) * std::log1p(std::exp(-2.0));
    const double fl2 = 0.75 * std::pow(s2, 2) * std::log1p(std::exp(-1.0));
    const double dice = 1 - (2 * s1 + 1) / (s1 + s2 + 1 + 1);
    EXPECT_NEAR(loss_of({2, -1}, {1, 0}), 0.7 * (fl1 + fl2) / (2 + 1e-8) + 0.3 * dice, 1e-12);
    // pos_weight 3 multiplies the positive cross-entropy.
    make("loss.focal", R"({"alpha": 0.25, "gamma": 2.0, "pos_weight": 3.0, "eps": 0})");
    EXPECT_NEAR(loss_of({0}, {1}), 0.0625 * 3 * l2, 1e-12);
    EXPECT_NEAR(component(0, "focal"), 0.0625 * 3 * l2, 1e-12);
    // gamma 0 without alpha is BCE with logits.
    make("loss.focal", R"({"alpha": -1, "gamma": 0.0, "pos_weight": 1.0, "eps": 0})");
    EXPECT_NEAR(loss_of({1, -2}, {1, 0}), (std::log1p(std::exp(-1.0)) + std::log1p(std::exp(-2.0))) / 2, 1e-12);
}

TEST_F(Loss, IgnoredPixelsContributeExactlyZero) {
    make("loss.focal_dice", kDefaults);
    const std::vector<float> z{1.5f, -0.3f, 0.2f, -2.0f};
    const std::vector<float> y{1, 0, 1, 0};
    std::vector<float> g0, g1, g2;
    double l0 = NAN, l1 = NAN, l2 = NAN;
    ASSERT_EQ(run(z, y, &l0, &g0), SPOTFLOW_OK) << host.error;
    // The same plus ignored elements with extreme logits, interleaved.
    const std::vector<float> z1{1.5f, 40.0f, -0.3f, 0.2f, -40.0f, -2.0f, 3.0f};
    const std::vector<float> y1{1, -1, 0, 1, -1, 0, -1};
    ASSERT_EQ(run(z1, y1, &l1, &g1), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(l1, l0);
    EXPECT_EQ(g1[1], 0.0f);
    EXPECT_EQ(g1[4], 0.0f);
    EXPECT_EQ(g1[6], 0.0f);
    EXPECT_EQ(g1[0], g0[0]);
    EXPECT_EQ(g1[2], g0[1]);
    EXPECT_EQ(g1[3], g0[2]);
    EXPECT_EQ(g1[5], g0[3]);
    // A mask of 0 ignores the same way (the loss ABI's mask).
    const std::vector<float> y2{1, 1, 0, 1, 0, 0, 1};
    const std::vector<uint8_t> m{1, 0, 1, 1, 0, 1, 0};
    ASSERT_EQ(run(z1, y2, &l2, &g2, &m), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(l2, l0);
    EXPECT_EQ(g2[1], 0.0f);
    EXPECT_EQ(g2[6], 0.0f);
    // Nothing valid: loss 0, gradient 0.
    std::vector<float> g3;
    double l3 = NAN;
    ASSERT_EQ(run({1, 2}, {-1, -1}, &l3, &g3), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(l3, 0.0);
    EXPECT_EQ(g3[0], 0.0f);
    EXPECT_EQ(g3[1], 0.0f);
}

TEST_F(Loss, GradientMatchesCentralDifferences) {
    for (const char* id : {"loss.focal_dice", "loss.focal"}) {
        make(id, std::string(id) == "loss.focal" ? R"({"alpha": 0.25, "gamma": 2.0, "pos_weight": 2.5, "eps": 1e-8})"
                                                 : R"({"alpha": 0.4, "gamma": 1.5, "pos_weight": 2.5, "eps": 1e-8,
                                                       "focal_weight": 0.7, "dice_weight": 0.3, "dice_smooth": 1.0})");
        std::mt19937 rng(3);
        std::normal_distribution<float> logit(0.0f, 2.5f);
        std::uniform_real_distribution<float> unit(0.0f, 1.0f);
        const size_t n = 48;
        std::vector<float> z(n), y(n);
        for (size_t i = 0; i < n; ++i) {
            z[i] = logit(rng);
            const int k = static_cast<int>(i % 4);
            y[i] = k == 0 ? -1.0f : k == 1 ? unit(rng) : static_cast<float>(k == 2);
        }
        std::vector<float> g;
        double l = NAN;
        ASSERT_EQ(run(z, y, &l, &g), SPOTFLOW_OK) << host.error;
        const float h = 1e-3f;
        for (size_t i = 0; i < n; ++i) {
            std::vector<float> up = z, down = z;
            up[i] += h;
            down[i] -= h;
            const double fd = (loss_of(up, y) - loss_of(down, y)) / (static_cast<double>(up[i]) - down[i]);
            EXPECT_NEAR(g[i], fd, 2e-3 * std::max(std::abs(fd), 1e-3)) << id << " element " << i;
            if (y[i] == -1.0f) {
                EXPECT_EQ(g[i], 0.0f);
            }
        }
    }
}

TEST_F(Loss, LargeLogitsStayFinite) {
    make("loss.focal_dice", kDefaults);
    std::vector<float> g;
    double l = NAN;
    ASSERT_EQ(run({1000, -1000, 1000, -1000}, {0, 1, 1, 0}, &l, &g), SPOTFLOW_OK) << host.error;
    EXPECT_TRUE(std::isfinite(l));
    for (float v : g) EXPECT_TRUE(std::isfinite(v));
    // Confidently wrong: alpha_t * 1 * 1000 each; right: 0.
    EXPECT_NEAR(component(0, "focal"), (0.75 * 1000 + 0.25 * 1000) / (4 + 1e-8), 1e-9);
}

TEST_F(Loss, BadInputNamedOnOneLine) {
    make("loss.focal_dice", kDefaults);
    double l = NAN;
    EXPECT_EQ(run({0, 0}, {1, 2}, &l), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "targets[0] element 1 is 2.000000, outside [0, 1] and not -1 (ignore)");
    EXPECT_EQ(run({0, 0}, {1, -0.5f}, &l), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(run({NAN, 0}, {1, 0}, &l), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "predictions[0] element 0 is not finite");
    // A NaN logit at an ignored element is never looked at.
    EXPECT_EQ(run({NAN, 0}, {-1, 0}, &l), SPOTFLOW_OK);
    const spotflow_loss_vtable* v = lib.plugin("loss.focal_dice").loss;
    EXPECT_EQ(v->create(host.get(), R"({"alpha": 0.25, "gamma": -1, "pos_weight": 1, "eps": 0, "focal_weight": 0.7, "dice_weight": 0.3, "dice_smooth": 1})"), nullptr);
    EXPECT_EQ(host.error, "params: gamma must be >= 0");
    EXPECT_EQ(v->create(host.get(), R"({"alpha": 0.25, "gamma": 2, "pos_weight": 0, "eps": 0, "focal_weight": 0.7, "dice_weight": 0.3, "dice_smooth": 1})"), nullptr);
    EXPECT_EQ(host.error, "params: pos_weight must be > 0");
}

} // namespace
