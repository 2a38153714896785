// A build without LibTorch: the MLP predicts from a saved model but cannot
// train, and the search leaves it out with a warning.
#include <stdexcept>

#include "mlp.hpp"

namespace curation {

bool mlp_trainable() { return false; }
std::string torch_version() { return ""; }
void set_torch_threads(int) {}

std::vector<MlpLayer> train_mlp(const Matrix&, const std::vector<int>&, int, const std::vector<int>&, double, double,
                                int, uint64_t) {
    throw std::runtime_error("MLPClassifier needs LibTorch (Debian: libtorch-dev), which this build lacks");
}

} // namespace curation
