// Calcium events from a per-point event probability along one track: runs of
// frames whose probability is at or above a threshold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace calcium_probability {

struct RunOptions {
    double threshold = 0.5;   // a frame is active when p >= threshold
    int min_frames = 1;       // an event has at least this many active frames
    int max_gap_frames = 0;   // inactive or missing frames an event may bridge
};

struct Run {
    std::size_t onset = 0, peak = 0, end = 0; // indices into the track's points (sorted by frame)
    int active_frames = 0;
    double peak_probability = 0, mean_probability = 0; // over the active frames
};

// frames: strictly increasing; p: one per frame. Active frames closer than
// max_gap_frames + 1 frames apart (a gap being frames below the threshold
// or frames the track misses) are one event.
std::vector<Run> find_runs(const std::vector<int64_t>& frames, const std::vector<double>& p, const RunOptions& o);

} // namespace calcium_probability
