// loss.bce through its ABI: created from the descriptor's loss vtable with a
// fake host, as a trainer would get it.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "loss_fixture.hpp"

namespace {

using namespace spotflow::testing; // the harness, ColumnType, TableBuilder, TableView, the loss fixture

class Bce : public LossFixture {
protected:
    Bce() : LossFixture(PLUGIN_PATH, "loss.bce", R"({"pos_weight": 2.0, "reduction": "mean"})") {}
    spotflow_status run(const DLManagedTensor* z, const DLManagedTensor* y, double* loss,
                        const DLManagedTensor* mask = nullptr, DLManagedTensor* grad = nullptr) {
        const DLTensor* preds[] = {&z->dl_tensor};
        const DLTensor* targets[] = {&y->dl_tensor};
        DLTensor* grads[] = {grad ? &grad->dl_tensor : nullptr};
        const spotflow_loss_io io{preds, targets, 1, 1, mask ? &mask->dl_tensor : nullptr, grad ? grads : nullptr};
        return vt->compute(self, &io, loss);
    }
    double loss_of(const Tensor& z, const Tensor& y, const DLManagedTensor* mask = nullptr) {
        double loss = NAN;
        EXPECT_EQ(run(z.get(), y.get(), &loss, mask), SPOTFLOW_OK) << host.error;
        return loss;
    }
};

TEST_F(Bce, DescriptorIsALossWithoutPorts) {
    EXPECT_STREQ(desc.kind, "loss");
    EXPECT_STREQ(desc.version, "1.0.0");
    EXPECT_EQ(desc.node, nullptr);
    EXPECT_EQ(desc.n_inputs + desc.n_outputs, 0u);
    EXPECT_EQ(vt->parameter_count(self), 0);
    DLTensor *value = nullptr, *grad = nullptr;
    EXPECT_EQ(vt->parameter(self, 0, &value, &grad), SPOTFLOW_ERR_INVALID_ARGUMENT);
}

TEST_F(Bce, KnownValues) {
    const double log2 = std::log(2.0);
    // p = 2: z = 0, y = 1 costs 2 log 2; z = 0, y = 0 costs log 2 (p weighs only y = 1).
    EXPECT_NEAR(loss_of(tensor<float>({1}, {0}), tensor<float>({1}, {1})), 2 * log2, 1e-12);
    EXPECT_NEAR(loss_of(tensor<float>({1}, {0}), tensor<float>({1}, {0})), log2, 1e-12);
    EXPECT_NEAR(loss_of(tensor<float>({2}, {0, 0}), tensor<float>({2}, {1, 0})), 1.5 * log2, 1e-12);
    // A soft target: y = 0.25, z = 1: (1 - y) z + (1 + (p - 1) y) log(1 + e^-1).
    EXPECT_NEAR(loss_of(tensor<float>({1}, {1}), tensor<float>({1}, {0.25f})),
                0.75 + 1.25 * std::log1p(std::exp(-1.0)), 1e-12);

    make(R"({"pos_weight": 1.0, "reduction": "sum"})");
    EXPECT_NEAR(loss_of(tensor<float>({2}, {0, 0}), tensor<float>({2}, {1, 0})), 2 * log2, 1e-12);
}

TEST_F(Bce, ComponentsAreThePositiveAndNegativeTerms) {
    // p = 2, mean over 2: the y = 1 element costs 2 log 2, the y = 0 one log 2.
    const double log2 = std::log(2.0);
    EXPECT_NEAR(loss_of(tensor<float>({2}, {0, 0}), tensor<float>({2}, {1, 0})), 1.5 * log2, 1e-12);
    ASSERT_EQ(vt->component_count(self), 2);
    const char* name = nullptr;
    double value = 0;
    ASSERT_EQ(vt->component(self, 0, &name, &value), SPOTFLOW_OK) << host.error;
    EXPECT_STREQ(name, "positive");
    EXPECT_NEAR(value, log2, 1e-12);
    ASSERT_EQ(vt->component(self, 1, &name, &value), SPOTFLOW_OK) << host.error;
    EXPECT_STREQ(name, "negative");
    EXPECT_NEAR(value, 0.5 * log2, 1e-12);
    EXPECT_EQ(vt->component(self, 2, &name, &value), SPOTFLOW_ERR_INVALID_ARGUMENT);
}

TEST_F(Bce, LargeLogitsStayFinite) {
    const auto z = tensor<float>({4}, {1000, -1000, 1000, -1000});
    const auto y = tensor<float>({4}, {0, 1, 1, 0});
    auto grad = Tensor(spotflow::make_tensor<float>({4}), spotflow::release_tensor);
    double loss = NAN;
    ASSERT_EQ(run(z.get(), y.get(), &loss, nullptr, grad.get()), SPOTFLOW_OK) << host.error;
    // Confidently wrong: 1000 and 2 x 1000; confidently right: 0. Mean over 4.
    EXPECT_NEAR(loss, (1000 + 2000) / 4.0, 1e-9);
    const float* g = static_cast<const float*>(grad->dl_tensor.data);
    EXPECT_FLOAT_EQ(g[0], 0.25f);  // (1 - y) / 4
    EXPECT_FLOAT_EQ(g[1], -0.5f);  // -p / 4
    EXPECT_FLOAT_EQ(g[2], 0.0f);
    EXPECT_FLOAT_EQ(g[3], 0.0f);
}

TEST_F(Bce, MaskExcludesElements) {
    const auto z = tensor<float>({2, 2}, {0, 0, -50, 50});
    const auto y = tensor<float>({2, 2}, {1, 0, 1, 0});
    const double log2 = std::log(2.0);
    // The two costly elements are masked out, as uint8 and as float32.
    const auto mask8 = tensor<uint8_t>({2, 2}, {1, 1, 0, 0});
    const auto maskf = tensor<float>({2, 2}, {1, 0.5f, 0, 0});
    EXPECT_NEAR(loss_of(z, y, mask8.get()), 1.5 * log2, 1e-12);
    EXPECT_NEAR(loss_of(z, y, maskf.get()), 1.5 * log2, 1e-12);

    auto grad = Tensor(spotflow::make_tensor<float>({2, 2}, {9, 9, 9, 9}), spotflow::release_tensor);
    double loss = NAN;
    ASSERT_EQ(run(z.get(), y.get(), &loss, mask8.get(), grad.get()), SPOTFLOW_OK);
    const float* g = static_cast<const float*>(grad->dl_tensor.data);
    EXPECT_FLOAT_EQ(g[0], -0.5f); // ((1 - y) - p s(0)) / 2
    EXPECT_FLOAT_EQ(g[1], 0.25f); // s(0) / 2
    EXPECT_EQ(g[2], 0.0f);
    EXPECT_EQ(g[3], 0.0f);

    // Nothing unmasked: the mean is 0, and so is the gradient.
    const auto none = tensor<uint8_t>({2, 2}, {0, 0, 0, 0});
    ASSERT_EQ(run(z.get(), y.get(), &loss, none.get(), grad.get()), SPOTFLOW_OK);
    EXPECT_EQ(loss, 0.0);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(g[i], 0.0f);
}

TEST_F(Bce, GradientMatchesCentralDifferences) {
    const std::vector<int64_t> shape{3, 4, 5};
    const size_t n = 60;
    std::mt19937 rng(7);
    std::normal_distribution<float> logit(0.0f, 3.0f);
    std::uniform_real_distribution<float> unit(0.0f, 1.0f);
    std::vector<float> z(n), y(n);
    std::vector<uint8_t> m(n);
    for (size_t i = 0; i < n; ++i) {
        z[i] = logit(rng);
        y[i] = i % 3 == 0 ? unit(rng) : static_cast<float>(i % 3 == 1);
        m[i] = unit(rng) < 0.8f;
    }
    const auto mask = tensor<uint8_t>(shape, m);
    const auto targets = tensor<float>(shape, y);
    auto grad = Tensor(spotflow::make_tensor<float>(shape), spotflow::release_tensor);
    double loss = NAN;
    ASSERT_EQ(run(tensor<float>(shape, z).get(), targets.get(), &loss, mask.get(), grad.get()), SPOTFLOW_OK);
    const float* g = static_cast<const float*>(grad->dl_tensor.data);

    const float h = 1e-3f;
    for (size_t i = 0; i < n; ++i) {
        // The step actually taken, as float32 rounds z +- h.
        std::vector<float> up = z, down = z;
        up[i] += h;
        down[i] -= h;
        const double fd = (loss_of(tensor<float>(shape, up), targets, mask.get()) -
                           loss_of(tensor<float>(shape, down), targets, mask.get())) /
                          (static_cast<double>(up[i]) - down[i]);
        // Relative 1e-3, with a floor for gradients near 0 (and masked ones).
        EXPECT_NEAR(g[i], fd, 1e-3 * std::max(std::abs(fd), 1e-4)) << "element " << i;
    }
}

TEST_F(Bce, MismatchesAreReportedByName) {
    double loss = NAN;
    const auto z = tensor<float>({2, 3}, std::vector<float>(6));
    EXPECT_EQ(run(z.get(), tensor<float>({2, 4}, std::vector<float>(8)).get(), &loss), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "targets[0] has shape [2, 4], predictions[0] [2, 3]");
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_INVALID_ARGUMENT);

    const auto y = tensor<float>({2, 3}, std::vector<float>(6));
    EXPECT_EQ(run(z.get(), tensor<double>({2, 3}, std::vector<double>(6)).get(), &loss), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "targets[0] is float64, expected float32");
    EXPECT_EQ(run(z.get(), y.get(), &loss, tensor<uint8_t>({3, 2}, std::vector<uint8_t>(6)).get()),
              SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "mask has shape [3, 2], predictions[0] [2, 3]");
    EXPECT_EQ(run(z.get(), y.get(), &loss, tensor<int32_t>({2, 3}, std::vector<int32_t>(6)).get()),
              SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "mask is int32, expected float32 or uint8");
    auto grad = Tensor(spotflow::make_tensor<float>({6}), spotflow::release_tensor);
    EXPECT_EQ(run(z.get(), y.get(), &loss, nullptr, grad.get()), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "gradients[0] has shape [6], predictions[0] [2, 3]");
    EXPECT_EQ(run(z.get(), tensor<float>({2, 3}, {0, 0, 0, 1.5f, 0, 0}).get(), &loss), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "targets[0] element 3 is 1.500000, outside [0, 1]");
}

TEST_F(Bce, BadParamsFailCreate) {
    const spotflow_loss_vtable* loss = desc.loss;
    EXPECT_EQ(loss->create(host.get(), R"({"pos_weight": 1.0, "reduction": "median"})"), nullptr);
    EXPECT_EQ(host.error, R"(params: reduction must be "mean" or "sum", not "median")");
    EXPECT_EQ(loss->create(host.get(), R"({"reduction": "sum"})"), nullptr);
    EXPECT_NE(host.error.find("pos_weight"), std::string::npos) << host.error;
}

} // namespace
