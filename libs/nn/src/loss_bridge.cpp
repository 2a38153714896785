#include "spotflow_nn/loss_bridge.hpp"

#include <torch/torch.h>

#include "spotflow/plugin_error.hpp"

namespace spotflow::nn {

namespace {

DLTensor dl_view(const torch::Tensor& t) {
    if (t.device().type() != torch::kCPU || t.scalar_type() != torch::kFloat32 || !t.is_contiguous())
        throw std::invalid_argument("loss tensors must be contiguous CPU float32");
    DLTensor d{};
    d.data = t.data_ptr();
    d.device = {kDLCPU, 0};
    d.ndim = static_cast<int>(t.dim());
    d.dtype = {kDLFloat, 32, 1};
    d.shape = const_cast<int64_t*>(t.sizes().data());
    d.strides = nullptr; // compact row-major
    return d;
}

torch::Tensor from_dl(const DLTensor& d, const std::string& what) {
    if (d.device.device_type != kDLCPU || d.dtype.code != kDLFloat || d.dtype.bits != 32 || d.dtype.lanes != 1)
        throw std::runtime_error(what + " is not a CPU float32 tensor");
    const std::vector<int64_t> shape(d.shape, d.shape + d.ndim);
    void* data = static_cast<char*>(d.data) + d.byte_offset;
    auto t = d.strides ? torch::from_blob(data, shape, std::vector<int64_t>(d.strides, d.strides + d.ndim), torch::kFloat32)
                       : torch::from_blob(data, shape, torch::kFloat32);
    return t;
}

} // namespace

LossBridge::LossBridge(const spotflow_host* host, const std::string& id, const nlohmann::json& params)
    : host_(host), id_(id) {
    if (!host->create_loss) throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, "this host offers no create_loss");
    const std::string p = params.dump();
    const spotflow_status st = host->create_loss(host, id.c_str(), p.c_str(), &loss_);
    if (st != SPOTFLOW_OK || !loss_.loss || !loss_.self) {
        loss_ = {};
        throw LossNotCreated(st != SPOTFLOW_OK ? st : SPOTFLOW_ERR_INVALID_ARGUMENT,
                             "loss '" + id + "' could not be created");
    }
    const int32_t n = loss_.loss->parameter_count ? loss_.loss->parameter_count(loss_.self) : 0;
    for (int32_t i = 0; i < n; ++i) {
        DLTensor *value = nullptr, *grad = nullptr;
        if (loss_.loss->parameter(loss_.self, i, &value, &grad) != SPOTFLOW_OK || !value || !grad)
            throw PluginError(SPOTFLOW_ERR_INTERNAL, "loss '" + id + "' did not give its parameter " + std::to_string(i));
        auto v = from_dl(*value, "loss '" + id + "' parameter " + std::to_string(i));
        auto g = from_dl(*grad, "loss '" + id + "' gradient " + std::to_string(i));
        if (v.sizes() != g.sizes())
            throw PluginError(SPOTFLOW_ERR_INTERNAL, "loss '" + id + "' parameter " + std::to_string(i) +
                                                         " and its gradient differ in shape");
        v.set_requires_grad(true);
        v.mutable_grad() = g; // the optimiser reads the plugin's accumulator
        params_.push_back(v);
    }
}

torch::Tensor mask_weights(const torch::Tensor& labels) {
    if (!labels.defined() || torch::isFloatingType(labels.scalar_type()) || labels.scalar_type() == torch::kBool)
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                          "a mask holds integer labels (0 background, k >= 1 a label, -1 ignore), not " +
                              std::string(labels.defined() ? c10::toString(labels.scalar_type()) : "nothing"));
    if (labels.numel() > 0) {
        const int64_t low = labels.min().item<int64_t>();
        if (low < -1)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                              "a mask label of " + std::to_string(low) + ": only -1 (ignore) may be negative");
    }
    return labels.ne(-1).to(torch::kFloat32);
}

LossBridge::~LossBridge() {
    if (loss_.loss && loss_.self) loss_.loss->destroy(loss_.self);
}

double LossBridge::compute(const std::vector<torch::Tensor>& predictions, const std::vector<torch::Tensor>& targets,
                           std::vector<torch::Tensor>* gradients, const torch::Tensor& mask) {
    std::vector<torch::Tensor> p, t;
    for (const auto& x : predictions) p.push_back(x.detach().contiguous());
    for (const auto& x : targets) t.push_back(x.contiguous());
    std::vector<DLTensor> pd, td, gd;
    for (const auto& x : p) pd.push_back(dl_view(x));
    for (const auto& x : t) td.push_back(dl_view(x));
    if (gradients) {
        gradients->clear();
        for (const auto& x : p) gradients->push_back(torch::empty_like(x)); // x is contiguous
        for (const auto& g : *gradients) gd.push_back(dl_view(g));
    }
    std::vector<const DLTensor*> pp, tp;
    std::vector<DLTensor*> gp;
    for (auto& d : pd) pp.push_back(&d);
    for (auto& d : td) tp.push_back(&d);
    for (auto& d : gd) gp.push_back(&d);
    torch::Tensor m;
    DLTensor md{};
    if (mask.defined()) {
        m = mask.to(torch::kFloat32).contiguous();
        md = dl_view(m);
    }
    const spotflow_loss_io io{pp.data(), tp.data(), static_cast<int32_t>(pp.size()), static_cast<int32_t>(tp.size()),
                              mask.defined() ? &md : nullptr, gradients ? gp.data() : nullptr};
    double value = 0;
    const spotflow_status st = loss_.loss->compute(loss_.self, &io, &value);
    if (st != SPOTFLOW_OK)
        throw PluginError(st, "the loss plugin '" + id_ + "' failed" + (step_ >= 0 ? " at step " + std::to_string(step_) : ""));
    return value;
}

double LossBridge::backward(const torch::Tensor& prediction, const std::vector<torch::Tensor>& targets,
                            const torch::Tensor& mask) {
    std::vector<torch::Tensor> grads;
    const double l = compute({prediction}, targets, &grads, mask);
    prediction.backward(grads[0]);
    return l;
}

std::vector<std::pair<std::string, double>> LossBridge::components() const {
    std::vector<std::pair<std::string, double>> out;
    // The fields exist only in a 1.1 loss (loss.h).
    if (loss_.abi.major != SPOTFLOW_ABI_MAJOR || loss_.abi.minor < 1 || !loss_.loss->component_count ||
        !loss_.loss->component)
        return out;
    const int32_t n = loss_.loss->component_count(loss_.self);
    for (int32_t i = 0; i < n; ++i) {
        const char* name = nullptr;
        double value = 0;
        if (loss_.loss->component(loss_.self, i, &name, &value) == SPOTFLOW_OK && name) out.emplace_back(name, value);
    }
    return out;
}

} // namespace spotflow::nn
