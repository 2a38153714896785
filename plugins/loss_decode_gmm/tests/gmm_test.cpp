// loss.decode_gmm through its ABI: known values, the gradient against
// central finite differences, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "loss_fixture.hpp"

namespace {

using namespace spotflow::testing; // the harness, ColumnType, TableBuilder, TableView, the loss fixture

class Gmm : public LossFixture {
protected:
    Gmm() : LossFixture(PLUGIN_PATH, "loss.decode_gmm", "{}") {}
    spotflow_status run(const Tensor& pred, const Tensor& em, const Tensor* bg, double* loss, DLManagedTensor* grad = nullptr) {
        const DLTensor* preds[] = {&pred->dl_tensor};
        const DLTensor* targets[] = {&em->dl_tensor, bg ? &(*bg)->dl_tensor : nullptr};
        DLTensor* grads[] = {grad ? &grad->dl_tensor : nullptr};
        const spotflow_loss_io io{preds, targets, 1, bg ? 2 : 1, nullptr, grad ? grads : nullptr};
        return vt->compute(self, &io, loss);
    }
};

// Random but valid network outputs: B x 8 x H x W.
std::vector<float> random_outputs(int64_t b, int64_t h, int64_t w, std::mt19937& rng) {
    std::uniform_real_distribution<float> u(0, 1);
    std::vector<float> v(static_cast<size_t>(b * 8 * h * w));
    const int64_t k = h * w;
    for (int64_t i = 0; i < b; ++i)
        for (int64_t c = 0; c < 8; ++c)
            for (int64_t j = 0; j < k; ++j) {
                float& x = v[static_cast<size_t>((i * 8 + c) * k + j)];
                switch (c) {
                case 0: x = 0.05f + 0.9f * u(rng); break;          // p
                case 1: x = 0.5f + 2 * u(rng); break;              // photons
                case 2: case 3: x = 2 * u(rng) - 1; break;         // offsets
                case 7: x = 0.5f + u(rng); break;                  // background
                default: x = 0.3f + 1.5f * u(rng); break;          // sigmas
                }
            }
    return v;
}

TEST_F(Gmm, DescriptorIsALossWithoutPorts) {
    EXPECT_STREQ(desc.kind, "loss");
    EXPECT_EQ(desc.node, nullptr);
    EXPECT_EQ(desc.n_inputs + desc.n_outputs, 0u);
    EXPECT_EQ(vt->parameter_count(self), 0);
}

TEST_F(Gmm, OneEmitterOnePixelKnownValue) {
    // 1 x 1 frame, p = 0.5, one emitter at the mixture component's mean:
    // count: n = 1, S = 0.5, V = 0.25 + floor; GMM: -log N3(mu; mu, sigma) with weight p/S = 1.
    make(R"({"variance_floor": 0.001, "background_weight": 2.0})");
    const auto pred = tensor({1, 8, 1, 1}, {0.5f, 1.5f, 0.25f, -0.5f, 0.5f, 0.2f, 0.4f, 1.0f});
    const auto em = tensor({1, 1, 4}, {0.25f, -0.5f, 1.5f, 1.0f});
    const auto bg = tensor({1, 1, 1, 1}, {1.5f});
    double loss = 0;
    ASSERT_EQ(run(pred, em, &bg, &loss), SPOTFLOW_OK) << host.error;
    const double l2p = std::log(2 * M_PI), V = 0.251;
    const double count = 0.5 * (l2p + std::log(V)) + 0.25 / (2 * V);
    const double gmm = 1.5 * l2p + std::log(0.5) + std::log(0.2) + std::log(0.4);
    EXPECT_NEAR(loss, count + gmm + 2.0 * 0.25, 1e-6);

    // ABI 1.1: the three terms, which add up to the loss.
    ASSERT_EQ(vt->component_count(self), 3);
    const char* names[3];
    double values[3];
    for (int32_t i = 0; i < 3; ++i) ASSERT_EQ(vt->component(self, i, &names[i], &values[i]), SPOTFLOW_OK) << host.error;
    EXPECT_STREQ(names[0], "count");
    EXPECT_STREQ(names[1], "localisation");
    EXPECT_STREQ(names[2], "background");
    EXPECT_NEAR(values[0], count, 1e-6);
    EXPECT_NEAR(values[1], gmm, 1e-6);
    EXPECT_NEAR(values[2], 0.5, 1e-6);
    const char* name = nullptr;
    double value = 0;
    EXPECT_EQ(vt->component(self, 3, &name, &value), SPOTFLOW_ERR_INVALID_ARGUMENT);
}

TEST_F(Gmm, GradientMatchesFiniteDifferences) {
    std::mt19937 rng(3);
    const int64_t B = 2, H = 5, W = 6;
    auto base = random_outputs(B, H, W, rng);
    // Sample 0 holds three emitters (one padding row); sample 1 none, to
    // check the empty-frame count term.
    const auto em = tensor({B, 4, 4}, {1.2f, 2.3f, 1.1f, 1, 4.4f, 0.7f, 2.0f, 1, 3.0f, 3.6f, 0.9f, 0.5f, 0, 0, 0, 0,
                                       0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    std::vector<float> bgv(static_cast<size_t>(B * H * W));
    for (auto& x : bgv) x = std::uniform_real_distribution<float>(0.5f, 1.5f)(rng);
    const auto bg = tensor({B, 1, H, W}, bgv);
    make(R"({"empty_count_weight": 0.7, "count_weight": 1.3, "localisation_weight": 0.8, "background_weight": 0.5})");

    auto grad = zeros({B, 8, H, W});
    double loss = 0;
    ASSERT_EQ(run(tensor({B, 8, H, W}, base), em, &bg, &loss, grad.get()), SPOTFLOW_OK) << host.error;
    const float* g = static_cast<const float*>(grad->dl_tensor.data);
    // float32 inputs: steps of 1e-3 relative keep the rounding error of the
    // perturbed value well below the central-difference truncation error.
    int checked = 0;
    for (size_t i = 0; i < base.size(); ++i) {
        const float h = std::max(1e-3f, 1e-3f * std::abs(base[i]));
        auto up = base, dn = base;
        up[i] += h;
        dn[i] -= h;
        const float hu = up[i] - base[i], hd = base[i] - dn[i]; // the steps as stored in float
        double lu = 0, ld = 0;
        ASSERT_EQ(run(tensor({B, 8, H, W}, up), em, &bg, &lu), SPOTFLOW_OK);
        ASSERT_EQ(run(tensor({B, 8, H, W}, dn), em, &bg, &ld), SPOTFLOW_OK);
        const double fd = (lu - ld) / (static_cast<double>(hu) + hd);
        EXPECT_NEAR(g[i], fd, 2e-3 * std::max(1.0, std::abs(fd))) << "element " << i;
        ++checked;
    }
    EXPECT_EQ(checked, B * 8 * H * W);
}

TEST_F(Gmm, LossFallsWhenTheNetworkPointsAtTheEmitter) {
    // The pixel under the emitter with high p and a matching offset beats
    // a flat map: the loss ranks outputs the right way round.
    const int64_t H = 4, W = 4;
    std::vector<float> flat(static_cast<size_t>(8 * H * W));
    for (int64_t k = 0; k < H * W; ++k) {
        flat[static_cast<size_t>(k)] = 1.0f / 16;
        flat[static_cast<size_t>(1 * H * W + k)] = 1;
        for (int c = 4; c < 7; ++c) flat[static_cast<size_t>(c * H * W + k)] = 0.5f;
        flat[static_cast<size_t>(7 * H * W + k)] = 1;
    }
    auto sharp = flat;
    for (int64_t k = 0; k < H * W; ++k) sharp[static_cast<size_t>(k)] = 0.01f;
    sharp[static_cast<size_t>(2 * W + 1)] = 0.97f;
    sharp[static_cast<size_t>(2 * H * W + 2 * W + 1)] = 0.2f;
    sharp[static_cast<size_t>(3 * H * W + 2 * W + 1)] = -0.1f;
    const auto em = tensor({1, 1, 4}, {1.2f, 1.9f, 1.0f, 1});
    double lf = 0, ls = 0;
    ASSERT_EQ(run(tensor({1, 8, H, W}, flat), em, nullptr, &lf), SPOTFLOW_OK);
    ASSERT_EQ(run(tensor({1, 8, H, W}, sharp), em, nullptr, &ls), SPOTFLOW_OK);
    EXPECT_LT(ls, lf - 2);
}

TEST_F(Gmm, BadTensorsFailNamingThem) {
    double loss = 0;
    EXPECT_EQ(run(zeros({1, 7, 2, 2}), zeros({1, 1, 4}), nullptr, &loss), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(host.error.find("predictions[0]"), std::string::npos) << host.error;
    std::mt19937 rng(1);
    const auto pred = tensor({1, 8, 2, 2}, random_outputs(1, 2, 2, rng));
    EXPECT_EQ(run(pred, zeros({2, 1, 4}), nullptr, &loss), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(host.error.find("targets[0]"), std::string::npos) << host.error;
    const auto bg = zeros({1, 1, 3, 2});
    EXPECT_EQ(run(pred, zeros({1, 1, 4}), &bg, &loss), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(host.error.find("targets[1]"), std::string::npos) << host.error;
    EXPECT_EQ(run(zeros({1, 8, 2, 2}), zeros({1, 1, 4}), nullptr, &loss), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(host.error.find("probability"), std::string::npos) << host.error;
    EXPECT_EQ(vt->create(host.get(), R"({"variance_floor": 0})"), nullptr);
    EXPECT_NE(host.error.find("variance_floor"), std::string::npos);
}

} // namespace
