// The MLP's training on LibTorch: the only file of the curation plugins
// that includes torch.
#include <torch/torch.h>

#include <cmath>
#include <random>

#include "mlp.hpp"

namespace curation {

bool mlp_trainable() { return true; }
std::string torch_version() { return TORCH_VERSION; }
void set_torch_threads(int threads) { torch::set_num_threads(std::max(1, threads)); }

std::vector<MlpLayer> train_mlp(const Matrix& x, const std::vector<int>& y, int n_classes,
                                const std::vector<int>& hidden, double alpha, double lr, int max_iter, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<size_t> sizes = {x.cols};
    for (const int h : hidden) sizes.push_back(static_cast<size_t>(h));
    sizes.push_back(static_cast<size_t>(n_classes));
    const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
    std::vector<torch::Tensor> params;
    for (size_t k = 0; k + 1 < sizes.size(); ++k) {
        // Glorot uniform, as scikit-learn initialises (weights and biases).
        const double bound = std::sqrt(6.0 / static_cast<double>(sizes[k] + sizes[k + 1]));
        std::uniform_real_distribution<double> u(-bound, bound);
        std::vector<double> w(sizes[k + 1] * sizes[k]), b(sizes[k + 1]);
        for (double& v : w) v = u(rng);
        for (double& v : b) v = u(rng);
        params.push_back(torch::tensor(w, opts).reshape({static_cast<int64_t>(sizes[k + 1]), static_cast<int64_t>(sizes[k])}).requires_grad_());
        params.push_back(torch::tensor(b, opts).requires_grad_());
    }
    const torch::Tensor xt = torch::tensor(x.v, opts).reshape({static_cast<int64_t>(x.rows), static_cast<int64_t>(x.cols)});
    std::vector<int64_t> y64(y.begin(), y.end());
    const torch::Tensor yt = torch::tensor(y64, torch::kInt64);
    // Full-batch L-BFGS with a strong-Wolfe line search (scikit-learn's
    // solver "lbfgs", the one it recommends for small data sets). It stops
    // when the largest gradient component is below 1e-4, scikit-learn's
    // default `tol`, which it passes to scipy as `gtol`.
    torch::optim::LBFGS opt(params, torch::optim::LBFGSOptions(1)
                                        .max_iter(max_iter)
                                        .max_eval(max_iter * 5 / 4)
                                        .tolerance_grad(1e-4)
                                        .tolerance_change(1e-9)
                                        .history_size(10)
                                        .line_search_fn("strong_wolfe"));
    const double n = static_cast<double>(x.rows);
    auto closure = [&]() -> torch::Tensor {
        opt.zero_grad();
        torch::Tensor a = xt;
        torch::Tensor penalty = torch::zeros({}, opts);
        for (size_t k = 0; k < params.size(); k += 2) {
            a = torch::addmm(params[k + 1], a, params[k].t());
            if (k + 2 < params.size()) a = torch::relu(a);
            penalty = penalty + params[k].pow(2).sum();
        }
        torch::Tensor loss = torch::nn::functional::cross_entropy(a, yt) + 0.5 * alpha * penalty / n;
        loss.backward();
        return loss;
    };
    (void)lr;
    opt.step(closure);
    std::vector<MlpLayer> layers;
    for (size_t k = 0; k < params.size(); k += 2) {
        const torch::Tensor w = params[k].detach().contiguous(), b = params[k + 1].detach().contiguous();
        MlpLayer l;
        l.out = static_cast<size_t>(w.size(0));
        l.in = static_cast<size_t>(w.size(1));
        l.w.assign(w.data_ptr<double>(), w.data_ptr<double>() + w.numel());
        l.b.assign(b.data_ptr<double>(), b.data_ptr<double>() + b.numel());
        layers.push_back(std::move(l));
    }
    return layers;
}

} // namespace curation
