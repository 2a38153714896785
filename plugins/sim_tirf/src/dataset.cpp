#include "dataset.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "spotflow_sim/rng.hpp"

namespace sim {

std::string sample_name(int64_t index, int64_t num_samples) {
    const int digits = std::max<int>(3, static_cast<int>(std::to_string(std::max<int64_t>(0, num_samples - 1)).size()));
    return fmt::format("sample_{:0{}}", index, digits);
}

uint64_t sample_seed(uint64_t dataset_seed, int64_t index) {
    return mix_seed(dataset_seed, static_cast<uint64_t>(index)) >> 1;
}

} // namespace sim
