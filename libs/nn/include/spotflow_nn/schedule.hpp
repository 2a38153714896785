// Learning-rate schedules and keep-best bookkeeping for the training loop.
// Plain C++ (no LibTorch). Each object belongs to one training loop: not
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace spotflow::nn {

// The factor each parameter group's base learning rate is multiplied by.
//   constant: 1
//   step:     gamma ^ floor(step / step_size)                     (StepLR)
//   cosine:   min_factor + (1 - min_factor) (1 + cos(pi min(step, total) / total)) / 2
//   plateau:  times `factor` whenever the watched metric has not improved
//             by more than `threshold` (relative) for `patience` validations
//             (ReduceLROnPlateau), never below min_factor
struct ScheduleOptions {
    enum Kind { Constant, Step, Cosine, Plateau } kind = Constant;
    int64_t step_size = 1000;
    double gamma = 0.1;
    int64_t total_steps = 1;  // cosine
    double min_factor = 0;    // cosine, plateau
    double factor = 0.1;      // plateau
    int64_t patience = 10;    // plateau, in validations
    double threshold = 1e-4;  // plateau, relative
    bool maximise = false;    // plateau: the metric is better when larger

    // {"kind": "step"|"cosine"|"plateau"|"constant", ...the fields above};
    // throws std::invalid_argument naming a bad field.
    static ScheduleOptions from_json(const nlohmann::json& j);
};

class Schedule {
public:
    explicit Schedule(ScheduleOptions o = {});
    // The factor for the optimiser step `step` (from 0).
    double factor(int64_t step) const;
    // A validation's value of the watched metric (plateau only; the others ignore it).
    void observe(double metric);
    nlohmann::json state() const;
    void restore(const nlohmann::json& state);

private:
    ScheduleOptions o_;
    double plateau_factor_ = 1, best_ = 0;
    bool has_best_ = false;
    int64_t bad_ = 0;
};

// Which validation is best: metrics compared in order (a later one breaks
// ties of the earlier ones), each maximised or minimised. NaN or missing
// values never win.
struct MetricKey {
    std::string name;
    bool maximise = true;
};

class KeepBest {
public:
    explicit KeepBest(std::vector<MetricKey> keys);
    // True if `metrics` (a validation record with "step") beats the best so far; it then becomes the best.
    bool offer(const nlohmann::json& metrics);
    bool has_best() const { return !best_.is_null(); }
    const nlohmann::json& best() const { return best_; }
    int64_t best_step() const { return best_.is_null() ? -1 : best_.value("step", int64_t{-1}); }
    nlohmann::json state() const { return best_; }
    void restore(const nlohmann::json& state) { best_ = state; }

private:
    std::vector<MetricKey> keys_;
    nlohmann::json best_;
};

} // namespace spotflow::nn
