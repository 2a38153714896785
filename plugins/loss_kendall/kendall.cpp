// loss.kendall: homoscedastic-uncertainty weighting of named sub-losses
// (Kendall, Gal & Cipolla, CVPR 2018): L = sum_i exp(-s_i) L_i + s_i with
// s_i = log sigma_i^2 learnt with the network. Each L_i is another loss
// plugin, created through this loss's own host table (host->create_loss). See
// README.md for the tensor layout, the gradients and the components.
#include <cmath>
#include <cstdint>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spotflow/entry.hpp"
#include "spotflow/loss.hpp"
#include "spotflow/tensor.hpp"

namespace {

using spotflow::PluginError;

// One learnable scalar s_i (a float32 [1] tensor) and its accumulator.
struct Scalar {
    explicit Scalar(double v) : value(spotflow::make_tensor<float>({1}, {static_cast<float>(v)})),
                                grad(spotflow::make_tensor<float>({1}, {0.0f})) {}
    ~Scalar() {
        spotflow::release_tensor(value);
        spotflow::release_tensor(grad);
    }
    Scalar(const Scalar&) = delete;
    Scalar& operator=(const Scalar&) = delete;
    float& v() { return *static_cast<float*>(value->dl_tensor.data); }
    float& g() { return *static_cast<float*>(grad->dl_tensor.data); }
    DLManagedTensor* value;
    DLManagedTensor* grad;
};

// One term: a sub-loss instance and which tensors it takes.
struct Term {
    std::string name, loss_id;
    int32_t predictions = 1, targets = 1;
    bool use_mask = false;
    spotflow_loss_instance inst{};
    std::unique_ptr<Scalar> s;
    double raw = 0, weighted = 0, s_used = 0;             // L_i, exp(-s_i) L_i, s_i of the last compute
    std::vector<std::pair<std::string, double>> sub;      // its own components, raw
    std::vector<std::string> sub_names;                   // "raw.<name>.<component>"
    Term() = default;
    Term(const Term&) = delete;
    Term& operator=(const Term&) = delete;
    // The sub-loss is the term's (host.h): destroyed with it, also when a
    // later term's params make the Kendall constructor throw.
    ~Term() {
        if (inst.loss && inst.self) inst.loss->destroy(inst.self);
    }
};

class Kendall {
public:
    Kendall(const spotflow_host* host, const char* params_json) : host_(host) {
        const auto params = nlohmann::json::parse(params_json);
        const auto& terms = params.at("terms");
        if (!terms.is_array() || terms.empty()) throw std::invalid_argument("params: terms must be a non-empty array");
        if (!host->create_loss) throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, "loss.kendall: this host offers no create_loss");
        std::set<std::string> seen;
        for (size_t k = 0; k < terms.size(); ++k) {
            const auto& t = terms[k];
            const std::string where = "params: terms[" + std::to_string(k) + "]";
            auto term = std::make_unique<Term>();
            term->name = t.at("name").get<std::string>();
            term->loss_id = t.at("loss").get<std::string>();
            term->predictions = t.value("predictions", 1);
            term->targets = t.value("targets", 1);
            term->use_mask = t.value("use_mask", false);
            const double s0 = t.value("initial_log_variance", 0.0);
            if (term->name.empty() || term->name.find_first_of(". \t") != std::string::npos)
                throw std::invalid_argument(where + ".name '" + term->name + "' must be non-empty, without dots or spaces");
            if (!seen.insert(term->name).second) throw std::invalid_argument(where + ".name '" + term->name + "' is used twice");
            if (term->predictions < 1 || term->targets < 0)
                throw std::invalid_argument(where + ": predictions must be >= 1 and targets >= 0");
            if (!std::isfinite(s0) || std::abs(s0) > 30)
                throw std::invalid_argument(where + ".initial_log_variance must be finite, within [-30, 30]");
            if (term->loss_id == "loss.kendall")
                throw std::invalid_argument(where + ".loss: loss.kendall cannot weight itself");
            term->s = std::make_unique<Scalar>(s0);
            const std::string sub_params = t.value("params", nlohmann::json::object()).dump();
            // The instance is ours from here (host.h): destroyed by ~Term.
            terms_.push_back(std::move(term));
            Term& tm = *terms_.back();
            if (host->create_loss(host, tm.loss_id.c_str(), sub_params.c_str(), &tm.inst) != SPOTFLOW_OK || !tm.inst.loss ||
                !tm.inst.self) {
                tm.inst = {};
                // The host has set the reason (unknown id, bad params): keep it.
                throw spotflow::AlreadyReported{SPOTFLOW_ERR_INVALID_ARGUMENT};
            }
            const int32_t np = tm.inst.loss->parameter_count ? tm.inst.loss->parameter_count(tm.inst.self) : 0;
            if (np != 0)
                throw std::invalid_argument(where + ": the sub-loss '" + tm.loss_id + "' has " + std::to_string(np) +
                                            " learnable parameters; loss.kendall weights only losses without any");
            n_predictions_ += tm.predictions;
            n_targets_ += tm.targets;
        }
        rebuild_names();
    }
    Kendall(const Kendall&) = delete;
    Kendall& operator=(const Kendall&) = delete;

    double compute(const spotflow_loss_io& io) {
        if (io.n_predictions != n_predictions_ || io.n_targets != n_targets_)
            throw std::invalid_argument("expected " + std::to_string(n_predictions_) + " prediction and " +
                                        std::to_string(n_targets_) + " target tensors (the terms' counts), got " +
                                        std::to_string(io.n_predictions) + " and " + std::to_string(io.n_targets));
        double total = 0;
        int32_t p0 = 0, t0 = 0;
        for (auto& tp : terms_) {
            Term& t = *tp;
            const spotflow_loss_io sub{io.predictions + p0, io.targets + t0, t.predictions, t.targets,
                                       t.use_mask ? io.mask : nullptr, io.gradients ? io.gradients + p0 : nullptr};
            double li = 0;
            // A failing sub-loss has reported its one line (a tensor's shape):
            // it stands.
            if (const spotflow_status st = t.inst.loss->compute(t.inst.self, &sub, &li); st != SPOTFLOW_OK)
                throw spotflow::AlreadyReported{st};
            if (!std::isfinite(li))
                throw std::invalid_argument("loss.kendall term '" + t.name + "' (" + t.loss_id + ") is not finite (" +
                                            std::to_string(li) + ")");
            const double s = t.s->v();
            const double w = std::exp(-s);
            t.raw = li;
            t.weighted = w * li;
            t.s_used = s;
            total += w * li + s;
            if (io.gradients) {
                for (int32_t j = 0; j < t.predictions; ++j) {
                    DLTensor* g = io.gradients[p0 + j];
                    if (!g) continue;
                    float* d = spotflow::TensorView<float>(*g).mutable_data();
                    const int64_t n = spotflow::element_count(*g);
                    for (int64_t e = 0; e < n; ++e) d[e] = static_cast<float>(w * d[e]);
                }
                t.s->g() += static_cast<float>(1.0 - w * li); // dL/ds_i, accumulated (loss.h)
            }
            read_sub_components(t);
            p0 += t.predictions;
            t0 += t.targets;
        }
        refresh_components();
        return total;
    }

    int32_t parameter_count() const { return static_cast<int32_t>(terms_.size()); }
    void parameter(int32_t i, DLTensor** value, DLTensor** gradient) {
        if (i < 0 || i >= parameter_count())
            throw std::invalid_argument("loss.kendall has " + std::to_string(parameter_count()) + " parameters, not " +
                                        std::to_string(i + 1));
        *value = &terms_[static_cast<size_t>(i)]->s->value->dl_tensor;
        *gradient = &terms_[static_cast<size_t>(i)]->s->grad->dl_tensor;
    }

    // weighted.<t> and log_variance.<t> for every term (these add up to the
    // loss), then raw.<t> and raw.<t>.<component> (diagnostics).
    int32_t component_count() const { return static_cast<int32_t>(names_.size()); }
    void component(int32_t i, const char** name, double* value) const {
        *name = names_[static_cast<size_t>(i)].c_str();
        *value = values_[static_cast<size_t>(i)];
    }
    void refresh_components() {
        values_.clear();
        // As of the last compute (an optimiser step may have moved s since).
        for (const auto& t : terms_) values_.push_back(t->weighted);
        for (const auto& t : terms_) values_.push_back(t->s_used);
        for (const auto& t : terms_) {
            values_.push_back(t->raw);
            for (const auto& [n, v] : t->sub) values_.push_back(v);
        }
    }

private:
    void rebuild_names() {
        names_.clear();
        for (const auto& t : terms_) names_.push_back("weighted." + t->name);
        for (const auto& t : terms_) names_.push_back("log_variance." + t->name);
        for (const auto& t : terms_) {
            names_.push_back("raw." + t->name);
            for (const auto& [n, v] : t->sub) names_.push_back("raw." + t->name + "." + n);
        }
        refresh_components();
    }
    // The sub-loss's own components (ABI 1.1 only), as raw diagnostics.
    void read_sub_components(Term& t) {
        const auto* vt = t.inst.loss;
        std::vector<std::pair<std::string, double>> sub;
        if (t.inst.abi.major == SPOTFLOW_ABI_MAJOR && t.inst.abi.minor >= 1 && vt->component_count && vt->component) {
            const int32_t n = vt->component_count(t.inst.self);
            for (int32_t i = 0; i < n; ++i) {
                const char* name = nullptr;
                double v = 0;
                if (vt->component(t.inst.self, i, &name, &v) == SPOTFLOW_OK && name) sub.emplace_back(name, v);
            }
        }
        const bool renamed = sub.size() != t.sub.size();
        t.sub = std::move(sub);
        if (renamed) rebuild_names();
    }

    const spotflow_host* host_;
    std::vector<std::unique_ptr<Term>> terms_;
    int32_t n_predictions_ = 0, n_targets_ = 0;
    std::vector<std::string> names_;
    std::vector<double> values_;
};

const spotflow_loss_vtable vtable = spotflow::loss_vtable<Kendall>();

const char* const schema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "required": ["terms"],
  "properties": {
    "terms": {
      "type": "array", "minItems": 1,
      "description": "The sub-losses, in the order their tensors come in the loss's predictions and targets.",
      "items": {
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "loss"],
        "properties": {
          "name": {"type": "string", "minLength": 1, "description": "The term's name in the components (no dots, no spaces), e.g. localisation, calcium."},
          "loss": {"type": "string", "description": "The sub-loss's plugin id, e.g. loss.decode_gmm, loss.bce, loss.focal."},
          "params": {"type": "object", "default": {}, "description": "The sub-loss's params (validated and completed by the host)."},
          "predictions": {"type": "integer", "minimum": 1, "default": 1, "description": "How many of the prediction tensors, taken in order, are this term's."},
          "targets": {"type": "integer", "minimum": 0, "default": 1, "description": "How many of the target tensors, taken in order, are this term's."},
          "use_mask": {"type": "boolean", "default": false, "description": "Hand the loss's mask to this sub-loss (else it gets none)."},
          "initial_log_variance": {"type": "number", "minimum": -30, "maximum": 30, "default": 0.0, "description": "s_i = log sigma_i^2 at creation (0: weight 1)."}
        }
      }
    }
  }
})";

} // namespace

namespace loss_kendall {
const spotflow_plugin_desc descriptor = {
    "loss.kendall", "1.0.0",
    "Kendall et al. 2018 uncertainty weighting of named sub-losses: sum_i exp(-s_i) L_i + s_i, s_i learnt", "loss",
    nullptr, 0, 0, nullptr, // a loss has no ports
    schema,
    nullptr, &vtable, // loss, not node
};
} // namespace loss_kendall

SPOTFLOW_EXPORT_PLUGINS(loss_kendall::descriptor);
