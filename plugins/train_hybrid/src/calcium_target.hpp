// train.hybrid's calcium target for the centre frame of a window: which
// puncta are calcium-active (eval.calcium's definition: a transient of the
// punctum's track at >= active_fraction of its peak dF/F0) and the per-pixel
// 0/1 map around them; with ignore_background, pixels farther than the
// radius from every punctum are -1 (loss.focal's "ignore"), since the
// calcium probability is only ever read at a detection.
#pragma once

#include <cstdint>
#include <vector>

#include "spotflow_sim/tracks.hpp"

namespace train_hybrid {

struct CalciumPunctum {
    double x = 0, y = 0;
    bool active = false;
};

// Whether any transient of track_id is at >= fraction of its peak at frame.
bool calcium_active(const std::vector<sim::CalciumEvent>& events, int64_t track_id, int64_t frame, int64_t rise_frames,
                    double fraction);

// S x S row-major into out: 1 within radius of an active punctum, else 0
// within radius of an inactive one, else 0 (or -1 with ignore_background).
void calcium_target(const std::vector<CalciumPunctum>& puncta, int64_t size, double radius, bool ignore_background, float* out);

} // namespace train_hybrid
