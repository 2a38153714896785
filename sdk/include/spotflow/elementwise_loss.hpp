// spotflow/elementwise_loss.hpp: the tensors of a per-element loss (one
// prediction of logits, one target of its shape, an optional mask and an
// optional gradient), checked once, for loss plugins such as loss.bce and
// loss.focal. Header-only; C++17.
//
//   const spotflow::ElementwiseIo t = spotflow::elementwise_io(io);
//   for (int64_t i = 0; i < t.n; ++i) if (t.kept(i)) ... t.z[i], t.y[i] ... t.grad[i] = ...;
//
// Errors: std::invalid_argument naming the tensor and what is wrong (dtype,
// device, layout, shape, count), which loss.hpp's guard turns into
// SPOTFLOW_ERR_INVALID_ARGUMENT with that line.
// Threading and ownership: the views borrow io's tensors, valid for the one
// compute() call; no state, callable from any thread.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "spotflow/loss.h"
#include "spotflow/tensor.hpp"

namespace spotflow {

// Throws naming `name` unless t is a compact CPU float32 tensor (or uint8,
// if allowed) of the logits' shape.
inline void check_like_logits(const DLTensor& t, const std::string& name, const DLTensor& logits, bool uint8_ok = false) {
    if (!same_dtype(t.dtype, dl_dtype<float>()) && !(uint8_ok && same_dtype(t.dtype, dl_dtype<uint8_t>())))
        throw std::invalid_argument(name + " is " + dtype_name(t.dtype) + ", expected float32" + (uint8_ok ? " or uint8" : ""));
    if (t.device.device_type != kDLCPU) throw std::invalid_argument(name + " is not on the CPU");
    if (!is_compact(t)) throw std::invalid_argument(name + " is not compact row-major");
    if (!same_shape(t, logits))
        throw std::invalid_argument(name + " has shape " + shape_name(t) + ", predictions[0] " + shape_name(logits));
}

struct ElementwiseIo {
    const float* z = nullptr;    // logits
    const float* y = nullptr;    // targets
    float* grad = nullptr;       // d loss / d z, or null when not asked for
    const DLTensor* mask = nullptr;
    int64_t n = 0;
    // The mask's verdict on element i (no mask: every element counts).
    bool kept(int64_t i) const { return !mask || element_as_double(*mask, i) != 0; }
};

inline ElementwiseIo elementwise_io(const spotflow_loss_io& io) {
    if (io.n_predictions != 1 || io.n_targets != 1 || !io.predictions[0] || !io.targets[0])
        throw std::invalid_argument("expected one prediction and one target tensor, got " + std::to_string(io.n_predictions) +
                                    " and " + std::to_string(io.n_targets));
    const DLTensor& logits = *io.predictions[0];
    check_like_logits(logits, "predictions[0]", logits);
    check_like_logits(*io.targets[0], "targets[0]", logits);
    if (io.mask) check_like_logits(*io.mask, "mask", logits, true);
    DLTensor* const grad_t = io.gradients ? io.gradients[0] : nullptr;
    if (grad_t) check_like_logits(*grad_t, "gradients[0]", logits);
    ElementwiseIo t;
    t.z = TensorView<float>(logits).data();
    t.y = TensorView<float>(*io.targets[0]).data();
    t.grad = grad_t ? TensorView<float>(*grad_t).mutable_data() : nullptr;
    t.mask = io.mask;
    t.n = element_count(logits);
    return t;
}

} // namespace spotflow
