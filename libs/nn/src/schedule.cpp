#include "spotflow_nn/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace spotflow::nn {

ScheduleOptions ScheduleOptions::from_json(const nlohmann::json& j) {
    if (!j.is_object()) throw std::invalid_argument("the schedule is not a JSON object");
    ScheduleOptions o;
    const std::string kind = j.value("kind", std::string("constant"));
    if (kind == "constant") o.kind = Constant;
    else if (kind == "step") o.kind = Step;
    else if (kind == "cosine") o.kind = Cosine;
    else if (kind == "plateau") o.kind = Plateau;
    else throw std::invalid_argument("schedule kind '" + kind + "' is not constant, step, cosine or plateau");
    o.step_size = j.value("step_size", o.step_size);
    o.gamma = j.value("gamma", o.gamma);
    o.total_steps = j.value("total_steps", o.total_steps);
    o.min_factor = j.value("min_factor", o.min_factor);
    o.factor = j.value("factor", o.factor);
    o.patience = j.value("patience", o.patience);
    o.threshold = j.value("threshold", o.threshold);
    o.maximise = j.value("maximise", o.maximise);
    if (o.step_size < 1) throw std::invalid_argument("schedule field 'step_size' must be >= 1");
    if (!(o.gamma > 0 && o.gamma <= 1)) throw std::invalid_argument("schedule field 'gamma' must be in (0, 1]");
    if (o.total_steps < 1) throw std::invalid_argument("schedule field 'total_steps' must be >= 1");
    if (!(o.min_factor >= 0 && o.min_factor <= 1)) throw std::invalid_argument("schedule field 'min_factor' must be in [0, 1]");
    if (!(o.factor > 0 && o.factor < 1)) throw std::invalid_argument("schedule field 'factor' must be in (0, 1)");
    if (o.patience < 0) throw std::invalid_argument("schedule field 'patience' must be >= 0");
    if (!(o.threshold >= 0)) throw std::invalid_argument("schedule field 'threshold' must be >= 0");
    return o;
}

Schedule::Schedule(ScheduleOptions o) : o_(o) {}

double Schedule::factor(int64_t step) const {
    switch (o_.kind) {
    case ScheduleOptions::Step: return std::pow(o_.gamma, static_cast<double>(step / o_.step_size));
    case ScheduleOptions::Cosine: {
        const double t = static_cast<double>(std::min(step, o_.total_steps)) / static_cast<double>(o_.total_steps);
        return o_.min_factor + (1 - o_.min_factor) * 0.5 * (1 + std::cos(M_PI * t));
    }
    case ScheduleOptions::Plateau: return plateau_factor_;
    case ScheduleOptions::Constant: break;
    }
    return 1;
}

void Schedule::observe(double metric) {
    if (o_.kind != ScheduleOptions::Plateau || std::isnan(metric)) return;
    const bool better = !has_best_ || (o_.maximise ? metric > best_ * (best_ >= 0 ? 1 + o_.threshold : 1 - o_.threshold)
                                                   : metric < best_ * (best_ >= 0 ? 1 - o_.threshold : 1 + o_.threshold));
    if (better) {
        best_ = metric;
        has_best_ = true;
        bad_ = 0;
        return;
    }
    if (++bad_ > o_.patience) {
        plateau_factor_ = std::max(o_.min_factor, plateau_factor_ * o_.factor);
        bad_ = 0;
    }
}

nlohmann::json Schedule::state() const {
    return {{"plateau_factor", plateau_factor_}, {"best", has_best_ ? nlohmann::json(best_) : nlohmann::json()}, {"bad", bad_}};
}

void Schedule::restore(const nlohmann::json& s) {
    plateau_factor_ = s.at("plateau_factor").get<double>();
    has_best_ = !s.at("best").is_null();
    best_ = has_best_ ? s["best"].get<double>() : 0;
    bad_ = s.at("bad").get<int64_t>();
}

KeepBest::KeepBest(std::vector<MetricKey> keys) : keys_(std::move(keys)) {
    if (keys_.empty()) throw std::invalid_argument("keep-best needs at least one metric");
}

bool KeepBest::offer(const nlohmann::json& m) {
    const auto value = [](const nlohmann::json& j, const std::string& k) {
        return j.contains(k) && j[k].is_number() ? j[k].get<double>() : NAN;
    };
    bool better = best_.is_null() && !std::isnan(value(m, keys_.front().name));
    if (!best_.is_null())
        for (const auto& k : keys_) {
            const double a = value(m, k.name), b = value(best_, k.name);
            if (std::isnan(a)) break;
            if (std::isnan(b) || (k.maximise ? a > b : a < b)) {
                better = true;
                break;
            }
            if (a != b) break;
        }
    if (better) best_ = m;
    return better;
}

} // namespace spotflow::nn
