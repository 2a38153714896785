// Greedy nearest-neighbour linking: the simplest tracker, the floor every
// other linker in a comparison must clear.
#pragma once

#include <cstdint>
#include <vector>

namespace link_nearest {

struct Options {
    double max_distance = 5.0; // px
    int max_gap = 0;           // frames a track may skip (0: consecutive frames only)
};

// Track id per detection (0, 1, ... in order of first appearance). Frame by
// frame, every (track end, detection) pair within max_distance is taken in
// order of increasing distance when both are still free.
std::vector<int64_t> link(const std::vector<int64_t>& frame, const std::vector<double>& x, const std::vector<double>& y,
                          const Options& options);

} // namespace link_nearest
