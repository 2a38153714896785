// The data's own displacement scale, learnt before linking: how far a
// punctum moves per frame and how noisy one localisation is, so that the
// search radius and the filters' noise follow the movie instead of a fixed
// gate.
#pragma once

#include <cstdint>
#include <vector>

namespace link_lap {

struct DisplacementScale {
    double disp_var = 1.0;  // per-axis variance of one frame's displacement (motion + 2 x localisation), px^2
    double step_var = 1.0;  // its motion part (diffusion per frame), px^2
    double meas_var = 0.0;  // localisation variance of one detection, px^2
    double intensity_var = 0; // variance of one detection's log intensity about its track's (0: none given)
    // The same for crowded detections (a neighbour in their frame within the
    // crowding radius), whose fitted intensity shares light with it; equal
    // to intensity_var when not told which are crowded or too few pairs.
    double intensity_var_crowded = 0;
    int64_t pairs = 0;      // mutual-nearest-neighbour pairs the estimate rests on
    bool learnt = false;    // false: too few pairs, the fallback was used
};

// frames[k] lists the detection indices of frame frame_ids[k] (ascending
// ids). Pairs detections of consecutive frames that are each other's
// nearest neighbour within `ceiling` px (<= 0: the median distance between
// neighbours within a frame, beyond which a step cannot be told from a
// neighbour), and takes robust (median-based) variances of the lag-1 and
// chained lag-2 displacements: lag 1 = q + 2r, lag 2 = 2q + 2r for
// diffusion q and localisation r. With fewer than `min_pairs` pairs returns
// `fallback_disp_var` (all motion) with learnt = false. With
// `log_intensity` (one per detection), also the variance of one detection's
// log intensity: half the robust (MAD) variance of its change along the
// pairs. With `crowded` (one flag per detection), pairs with a crowded
// detection give intensity_var_crowded and the others intensity_var
// (each from at least `min_pairs` pairs, else both from all pairs).
// Threading: pure function, safe to call concurrently.
DisplacementScale learn_displacement_scale(const std::vector<int64_t>& frame_ids,
                                           const std::vector<std::vector<int64_t>>& frames,
                                           const std::vector<double>& x, const std::vector<double>& y,
                                           double ceiling, double fallback_disp_var, int64_t min_pairs = 10,
                                           const std::vector<double>* log_intensity = nullptr,
                                           const std::vector<uint8_t>* crowded = nullptr);

} // namespace link_lap
