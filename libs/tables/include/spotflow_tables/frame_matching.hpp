// Matching points to reference points frame by frame: the step every
// scorer of detections needs (eval.detections, DECODE's validation, MAGIK's
// edge labels), defined once so they all count the same way.
#pragma once

#include <cstdint>
#include <vector>

namespace spotflow::tables {

// Points of one set: frame, x, y per row.
struct FramePoints {
    const std::vector<int64_t>& frame;
    const std::vector<double>& x;
    const std::vector<double>& y;
};

// Within each frame, the optimal one-to-one matching of `points` to
// `reference` over pairs strictly closer than `gate` px: it minimises the
// sum of matched distances plus `gate` for every point left unmatched, so a
// pair inside the gate always beats leaving both alone (a point at or beyond
// the gate is never matched). Candidate pairs come from a grid, so the work
// follows the nearby pairs. Returns, per row of `points`, the matched row of
// `reference` or -1.
std::vector<int64_t> match_by_frame(const FramePoints& points, const FramePoints& reference, double gate);

} // namespace spotflow::tables
