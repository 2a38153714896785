// A loss plugin as a trainer's loss: created through host->create_loss, fed
// LibTorch tensors as DLPack views (no copies), its gradient handed back to
// autograd, its learnable parameters (loss.h's parameter tensors) exposed as
// LibTorch tensors an optimiser updates in place, and its components (ABI
// 1.1) read for the metrics log. Includes LibTorch: only model code
// includes this header.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "spotflow/host.h"
#include "spotflow/loss.h"
#include "spotflow/plugin_error.hpp"

namespace spotflow::nn {

// Thrown when host->create_loss refused: the host has already recorded the
// reason (unknown id, bad params), so a plugin returns e.status without
// reporting again.
struct LossNotCreated : PluginError {
    using PluginError::PluginError;
};

// A "mask" port's labels (plugin.h: 0 = background, k >= 1 = label k,
// -1 = ignore) as the loss's mask weights (loss.h): float32 of the same
// shape, 0 where the label is -1, 1 elsewhere. Throws PluginError
// (INVALID_ARGUMENT) for a tensor of a non-integer type or a label below -1,
// naming the value.
torch::Tensor mask_weights(const torch::Tensor& labels);

// Owns one loss instance. Create and destroy on the main thread (loss.h);
// the rest from one thread at a time.
class LossBridge {
public:
    // Throws LossNotCreated if create_loss refuses (the host has recorded
    // why), PluginError if the host has no create_loss.
    LossBridge(const spotflow_host* host, const std::string& id, const nlohmann::json& params);
    ~LossBridge();
    LossBridge(const LossBridge&) = delete;
    LossBridge& operator=(const LossBridge&) = delete;

    // The loss of CPU float32 predictions against targets; if gradients is
    // given, dloss/dprediction per prediction. Inputs are made contiguous
    // (copied only if they are not). Throws PluginError naming the step.
    double compute(const std::vector<torch::Tensor>& predictions, const std::vector<torch::Tensor>& targets,
                   std::vector<torch::Tensor>* gradients = nullptr, const torch::Tensor& mask = {});

    // The loss of `prediction` (an autograd output), back-propagated into the
    // network's parameters; the loss's own parameters get their gradients
    // accumulated by the plugin.
    double backward(const torch::Tensor& prediction, const std::vector<torch::Tensor>& targets,
                    const torch::Tensor& mask = {});

    // The loss's learnable parameters: views on its memory, each with its
    // gradient accumulator attached as .grad(), for an optimiser's
    // parameter group. Valid while this bridge lives.
    const std::vector<torch::Tensor>& parameters() const { return params_; }

    // The named terms of the last compute (none for a 1.0 loss or one that
    // reports none).
    std::vector<std::pair<std::string, double>> components() const;

    // The step a failure is reported at.
    void set_step(int64_t step) { step_ = step; }

private:
    const spotflow_host* host_;
    std::string id_;
    spotflow_loss_instance loss_{};
    std::vector<torch::Tensor> params_;
    int64_t step_ = -1;
};

} // namespace spotflow::nn
