#include "spotflow_nn/training.hpp"

#include <ATen/Parallel.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/serialize.h>
#include <torch/utils.h>

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <stdexcept>

namespace spotflow::nn {

void seed_everything(uint64_t seed) { torch::manual_seed(seed); }

void set_threads(int threads) { at::set_num_threads(std::max(1, threads)); }

double clip_gradients(const std::vector<torch::Tensor>& params, double max_norm) {
    if (max_norm <= 0) {
        double sq = 0;
        for (const auto& p : params)
            if (p.grad().defined()) sq += p.grad().detach().to(torch::kDouble).pow(2).sum().item<double>();
        return std::sqrt(sq);
    }
    // LibTorch's own (as torch.nn.utils.clip_grad_norm_: scale max / (norm + 1e-6) when above).
    return torch::nn::utils::clip_grad_norm_(params, max_norm);
}

std::vector<torch::Tensor> optimiser_parameters(torch::optim::Optimizer& opt) {
    std::vector<torch::Tensor> out;
    for (auto& g : opt.param_groups())
        for (auto& p : g.params()) out.push_back(p);
    return out;
}

TrainingLoop::TrainingLoop(LoopOptions o, torch::optim::Optimizer& opt, Schedule schedule)
    : o_(std::move(o)), opt_(opt), schedule_(std::move(schedule)),
      best_(o_.best_by.empty() ? std::vector<MetricKey>{{"loss", false}} : o_.best_by) {
    if (o_.iterations < 1 || o_.validate_every < 1 || o_.checkpoint_every < 0)
        throw std::invalid_argument("training: iterations and validate_every must be >= 1, checkpoint_every >= 0");
    for (auto& g : opt_.param_groups()) base_lr_.push_back(g.options().get_lr());
}

void TrainingLoop::open_log(const std::string& path) {
    log_path_ = path;
    log_.open(path, std::ios::trunc);
    if (!log_) throw std::runtime_error("cannot write the metrics log '" + path + "'");
}

nlohmann::json TrainingLoop::advance(const LoopHooks& h) {
    const int64_t until = std::min(o_.iterations, (step_ / o_.validate_every + 1) * o_.validate_every);
    const auto params = optimiser_parameters(opt_);
    while (step_ < until) {
        if (h.cancelled && h.cancelled()) return {};
        // In place (LibTorch's zero_grad zeroes, it does not reset to
        // undefined): a loss plugin's gradient buffers, seen by the
        // optimiser through views, are zeroed with the network's.
        opt_.zero_grad();
        const double l = h.train_step(step_);
        if (!std::isfinite(l)) throw std::runtime_error("the loss is not finite at step " + std::to_string(step_));
        clip_gradients(params, o_.grad_clip_norm);
        const double f = schedule_.factor(step_);
        auto& groups = opt_.param_groups();
        for (size_t g = 0; g < groups.size(); ++g) groups[g].options().set_lr(base_lr_[g] * f);
        last_lr_ = base_lr_.empty() ? NAN : base_lr_[0] * f;
        opt_.step();
        running_loss_ = std::isnan(running_loss_) ? l : 0.95 * running_loss_ + 0.05 * l;
        ++step_;
        if (o_.checkpoint_every > 0 && step_ % o_.checkpoint_every == 0 && h.on_checkpoint) h.on_checkpoint(step_);
    }
    nlohmann::json v = h.validate ? h.validate(step_) : nlohmann::json::object();
    v["step"] = step_;
    v["train_loss"] = running_loss_;
    v["lr"] = last_lr_;
    if (!o_.plateau_metric.empty() && v.contains(o_.plateau_metric) && v[o_.plateau_metric].is_number())
        schedule_.observe(v[o_.plateau_metric].get<double>());
    last_ = v;
    if (best_.offer(v) && h.on_best) h.on_best(v);
    if (log_.is_open()) {
        log_ << v.dump() << "\n" << std::flush;
        if (!log_) throw std::runtime_error("cannot write the metrics log '" + log_path_ + "'");
    }
    return v;
}

void TrainingLoop::save_checkpoint(const std::string& path, torch::nn::Module& model) const {
    try {
        torch::serialize::OutputArchive a, m, o;
        model.save(m);
        opt_.save(o);
        a.write("model", m);
        a.write("optimizer", o);
        const nlohmann::json state{{"step", step_},
                                   {"running_loss", std::isnan(running_loss_) ? nlohmann::json() : nlohmann::json(running_loss_)},
                                   {"schedule", schedule_.state()},
                                   {"best", best_.state()}};
        a.write("state", c10::IValue(state.dump()));
        const std::string tmp = path + ".partial";
        a.save_to(tmp);
        std::filesystem::rename(tmp, path);
    } catch (const std::exception& e) {
        throw std::runtime_error("cannot write checkpoint '" + path + "': " + e.what());
    }
}

void TrainingLoop::load_checkpoint(const std::string& path, torch::nn::Module& model) {
    try {
        torch::serialize::InputArchive a, m, o;
        a.load_from(path);
        a.read("model", m);
        a.read("optimizer", o);
        model.load(m);
        opt_.load(o);
        c10::IValue s;
        a.read("state", s);
        const auto state = nlohmann::json::parse(s.toStringRef());
        step_ = state.at("step").get<int64_t>();
        running_loss_ = state.at("running_loss").is_null() ? NAN : state["running_loss"].get<double>();
        schedule_.restore(state.at("schedule"));
        best_.restore(state.at("best"));
    } catch (const std::exception& e) {
        throw std::runtime_error("checkpoint '" + path + "' cannot be loaded: " + std::string(e.what()).substr(0, 200));
    }
}

} // namespace spotflow::nn
