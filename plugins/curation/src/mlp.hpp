// The MLP's weights and its training entry point, with no LibTorch in sight:
// mlp_torch.cpp trains (the one file that includes torch), mlp.cpp predicts
// in plain C++ and reads and writes the weights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ml.hpp"

namespace curation {

struct MlpLayer {
    size_t in = 0, out = 0;
    std::vector<double> w; // out x in, row-major
    std::vector<double> b; // out
};

// Trains a ReLU MLP (hidden sizes `hidden`, softmax output of n_classes) on
// cross-entropy + alpha/2 ||W||^2 / rows (scikit-learn's MLPClassifier
// loss) from a Glorot-uniform initialisation drawn from `seed`, with
// full-batch L-BFGS for at most max_iter iterations (scikit-learn's solver
// "lbfgs"); lr is unused by L-BFGS. Uses LibTorch's current thread setting;
// throws std::runtime_error in a build without LibTorch.
std::vector<MlpLayer> train_mlp(const Matrix& x, const std::vector<int>& y, int n_classes,
                                const std::vector<int>& hidden, double alpha, double lr, int max_iter, uint64_t seed);
bool mlp_trainable();
std::string torch_version(); // "" without LibTorch
void set_torch_threads(int threads);

// The forward pass: rows x n_classes probabilities.
Matrix mlp_forward(const std::vector<MlpLayer>& layers, const Matrix& x);

std::string xgboost_version();

} // namespace curation
