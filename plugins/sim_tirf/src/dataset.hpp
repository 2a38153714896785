// The layout of a simulated dataset (seed 000's training data):
//   DIR/sample_000/movie.tif, ground_truth_tracks.csv, metadata.json
//   and with calcium: calcium.tif, calcium_events.csv
#pragma once

#include <cstdint>
#include <string>

namespace sim {

// "sample_007": zero-padded to 3 digits, more when the largest index needs them.
std::string sample_name(int64_t index, int64_t num_samples);

// The seed of sample `index`: a splitmix64 mix of (dataset seed, index),
// kept to 63 bits so that sim.tirf takes it as its seed param.
uint64_t sample_seed(uint64_t dataset_seed, int64_t index);

} // namespace sim
