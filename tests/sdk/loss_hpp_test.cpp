// spotflow/loss.hpp: a C++ class becomes a loss vtable; errors map to
// statuses as documented; learnable parameters are optional.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "plugin_harness.hpp"
#include "spotflow/loss.hpp"

using spotflow::testing::FakeHost;

namespace {

// Sum of squares of predictions[0]; "scale" is its param (the text itself).
class SquareSum {
public:
    SquareSum(const spotflow_host*, const char* params) : scale_(std::stod(params)) {
        if (scale_ <= 0) throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "scale must be > 0");
    }
    double compute(const spotflow_loss_io& io) {
        if (io.n_predictions != 1) throw std::invalid_argument("expected one prediction");
        const DLTensor& t = *io.predictions[0];
        double s = 0;
        for (int64_t i = 0; i < spotflow::element_count(t); ++i) s += std::pow(spotflow::element_as_double(t, i), 2);
        return scale_ * s;
    }

private:
    double scale_;
};

// One learnable scalar.
class WithParameter {
public:
    WithParameter(const spotflow_host*, const char*) {}
    double compute(const spotflow_loss_io&) { throw std::runtime_error("boom"); }
    int32_t parameter_count() { return 1; }
    void parameter(int32_t i, DLTensor** value, DLTensor** gradient) {
        if (i != 0) throw std::invalid_argument("no parameter " + std::to_string(i));
        *value = &value_->dl_tensor;
        *gradient = &gradient_->dl_tensor;
    }
    ~WithParameter() {
        spotflow::release_tensor(value_);
        spotflow::release_tensor(gradient_);
    }
    WithParameter(WithParameter&&) = delete;

private:
    DLManagedTensor* value_ = spotflow::make_tensor<float>({1}, {0.5f});
    DLManagedTensor* gradient_ = spotflow::make_tensor<float>({1}, {0.0f});
};

const spotflow_loss_vtable kSquare = spotflow::loss_vtable<SquareSum>();
const spotflow_loss_vtable kParam = spotflow::loss_vtable<WithParameter>();

TEST(LossHpp, ComputesAndReportsErrorsAsDocumented) {
    FakeHost host;
    void* self = kSquare.create(host.get(), "2");
    ASSERT_NE(self, nullptr) << host.error;
    DLManagedTensor* x = spotflow::make_tensor<float>({3}, {1.0f, 2.0f, 3.0f});
    const DLTensor* preds[] = {&x->dl_tensor};
    spotflow_loss_io io{preds, nullptr, 1, 0, nullptr, nullptr};
    double loss = 0;
    EXPECT_EQ(kSquare.compute(self, &io, &loss), SPOTFLOW_OK);
    EXPECT_DOUBLE_EQ(loss, 28.0);
    io.n_predictions = 0;
    EXPECT_EQ(kSquare.compute(self, &io, &loss), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "expected one prediction");
    EXPECT_EQ(kSquare.parameter_count(self), 0);
    DLTensor *v = nullptr, *g = nullptr;
    EXPECT_EQ(kSquare.parameter(self, 0, &v, &g), SPOTFLOW_ERR_INVALID_ARGUMENT);
    kSquare.destroy(self);
    spotflow::release_tensor(x);

    EXPECT_EQ(kSquare.create(host.get(), "-1"), nullptr);
    EXPECT_EQ(host.error, "scale must be > 0");
    EXPECT_EQ(kSquare.create(host.get(), "not a number"), nullptr); // std::stod's exception
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_INVALID_ARGUMENT);
}

TEST(LossHpp, LearnableParametersAreExposed) {
    FakeHost host;
    void* self = kParam.create(host.get(), "{}");
    ASSERT_NE(self, nullptr);
    EXPECT_EQ(kParam.parameter_count(self), 1);
    DLTensor *v = nullptr, *g = nullptr;
    ASSERT_EQ(kParam.parameter(self, 0, &v, &g), SPOTFLOW_OK);
    EXPECT_FLOAT_EQ(static_cast<float*>(v->data)[0], 0.5f);
    EXPECT_EQ(kParam.parameter(self, 3, &v, &g), SPOTFLOW_ERR_INVALID_ARGUMENT);
    spotflow_loss_io io{};
    double loss = 0;
    EXPECT_EQ(kParam.compute(self, &io, &loss), SPOTFLOW_ERR_INTERNAL);
    EXPECT_EQ(host.error, "boom");
    kParam.destroy(self);
}

} // namespace
