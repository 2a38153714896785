// spotflow/elementwise_loss.hpp: the checked views of a per-element loss's
// tensors, and the one error line for each kind of wrong tensor.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "spotflow/elementwise_loss.hpp"

namespace {

struct Owned {
    DLManagedTensor* m;
    ~Owned() { m->deleter(m); }
    DLTensor* t() { return &m->dl_tensor; }
};

std::string error_of(const spotflow_loss_io& io) {
    try {
        spotflow::elementwise_io(io);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

TEST(ElementwiseLoss, ViewsTheTensorsAndTheMask) {
    Owned z{spotflow::make_tensor<float>({2, 2}, {0.5f, -1, 2, 0})}, y{spotflow::make_tensor<float>({2, 2}, {1, 0, 1, 0})};
    Owned mask{spotflow::make_tensor<uint8_t>({2, 2}, {1, 0, 1, 1})}, g{spotflow::make_tensor<float>({2, 2})};
    DLTensor* preds[] = {z.t()};
    DLTensor* targets[] = {y.t()};
    DLTensor* grads[] = {g.t()};
    spotflow_loss_io io{};
    io.predictions = preds, io.n_predictions = 1, io.targets = targets, io.n_targets = 1, io.mask = mask.t(), io.gradients = grads;
    const auto t = spotflow::elementwise_io(io);
    EXPECT_EQ(t.n, 4);
    EXPECT_FLOAT_EQ(t.z[2], 2.0f);
    EXPECT_FLOAT_EQ(t.y[0], 1.0f);
    EXPECT_TRUE(t.kept(0));
    EXPECT_FALSE(t.kept(1));
    ASSERT_NE(t.grad, nullptr);
}

TEST(ElementwiseLoss, EachWrongTensorIsOneLineNamingIt) {
    Owned z{spotflow::make_tensor<float>({2, 2})}, y3{spotflow::make_tensor<float>({3})}, yi{spotflow::make_tensor<int32_t>({2, 2})};
    DLTensor* preds[] = {z.t()};
    DLTensor* targets[] = {y3.t()};
    spotflow_loss_io io{};
    io.predictions = preds, io.n_predictions = 1, io.targets = targets, io.n_targets = 1;
    EXPECT_EQ(error_of(io), "targets[0] has shape [3], predictions[0] [2, 2]");
    targets[0] = yi.t();
    EXPECT_EQ(error_of(io), "targets[0] is int32, expected float32");
    io.n_targets = 0;
    EXPECT_EQ(error_of(io), "expected one prediction and one target tensor, got 1 and 0");
}

} // namespace
