// The training loop the model plugins share: optimiser steps with a
// learning-rate schedule over the optimiser's parameter groups, gradient
// clipping, validation every N steps with a metrics log (JSON lines),
// keep-best-by-metric and periodic checkpoints. The plugin supplies the
// step (data, forward, loss, backward) and the validation; the loop owns the
// bookkeeping. Includes LibTorch: only model code includes this header.
#pragma once

#include <cstdint>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn.h>
#include <torch/optim/optimizer.h>

#include "spotflow_nn/schedule.hpp"

namespace spotflow::nn {

// Seeds LibTorch's generator. With the same seed, data and thread count a
// CPU training then gives identical weights.
void seed_everything(uint64_t seed);

// LibTorch's intra-op threads: the host's count (spotflow_host::threads),
// at least 1. Process-wide; call from create.
void set_threads(int threads);

// Scales every gradient of `params` so that their global L2 norm is at
// most max_norm; returns the norm before clipping. max_norm <= 0: no clipping.
double clip_gradients(const std::vector<torch::Tensor>& params, double max_norm);

// All parameters of an optimiser's groups, in order.
std::vector<torch::Tensor> optimiser_parameters(torch::optim::Optimizer& opt);

struct LoopOptions {
    int64_t iterations = 1000;
    int64_t validate_every = 100;   // and after the last step
    int64_t checkpoint_every = 0;   // 0: no periodic checkpoints
    double grad_clip_norm = 0;      // 0: no clipping
    std::vector<MetricKey> best_by; // keep-best order, e.g. {{"f1", true}, {"rmse_px", false}}
    std::string plateau_metric;     // the metric a plateau schedule watches
};

struct LoopHooks {
    // One step: compute the loss and its gradients on the optimiser's
    // parameters (the loop has zeroed them); return the loss.
    std::function<double(int64_t step)> train_step;
    // The validation metrics at this point (the loop adds step, train_loss, lr).
    std::function<nlohmann::json(int64_t step)> validate;
    // Called with a validation that is the best so far (write the best weights).
    std::function<void(const nlohmann::json& metrics)> on_best;
    // Called every checkpoint_every steps (write a checkpoint).
    std::function<void(int64_t step)> on_checkpoint;
    // Polled between steps; true stops the loop.
    std::function<bool()> cancelled;
};

// One training run. Not thread-safe; owned by the plugin instance.
class TrainingLoop {
public:
    // opt's groups' current learning rates are the base rates the schedule scales.
    TrainingLoop(LoopOptions o, torch::optim::Optimizer& opt, Schedule schedule);

    // Opens the metrics log (truncating it). Throws std::runtime_error naming it.
    void open_log(const std::string& path);
    // Runs steps up to and including the next validation (or the end).
    // Returns that validation's record (empty if cancelled before it).
    nlohmann::json advance(const LoopHooks& hooks);
    bool finished() const { return step_ >= o_.iterations; }
    int64_t step() const { return step_; }
    double running_loss() const { return running_loss_; }
    const KeepBest& best() const { return best_; }
    const nlohmann::json& last_validation() const { return last_; }

    // A checkpoint: the model's tensors, the optimiser's state, the step, the
    // schedule and keep-best state, the running loss. Loading one into a loop
    // built the same way continues the run as if it had not stopped.
    // Throw std::runtime_error naming the file.
    void save_checkpoint(const std::string& path, torch::nn::Module& model) const;
    void load_checkpoint(const std::string& path, torch::nn::Module& model);

private:
    LoopOptions o_;
    torch::optim::Optimizer& opt_;
    Schedule schedule_;
    KeepBest best_;
    std::vector<double> base_lr_;
    std::ofstream log_;
    std::string log_path_;
    int64_t step_ = 0;
    double running_loss_ = NAN, last_lr_ = NAN;
    nlohmann::json last_;
};

} // namespace spotflow::nn
