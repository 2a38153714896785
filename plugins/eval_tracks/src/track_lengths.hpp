// Track-length statistics of the seed pipeline's Step 5: mean and median
// length in points and the share of short (<= 3), medium (4-10) and long
// (> 10) tracks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tracks.hpp"

namespace eval_tracks {

enum class LengthClass { Short, Medium, Long };

LengthClass length_class(int64_t points);
const char* length_class_name(LengthClass c); // "short", "medium", "long"

struct LengthSummary {
    int64_t n_tracks = 0;
    double mean = 0;   // NaN without tracks
    double median = 0; // NaN without tracks
    int64_t n_short = 0, n_medium = 0, n_long = 0;
    double short_fraction = 0, medium_fraction = 0, long_fraction = 0; // NaN without tracks
};

// Lengths count real points; interpolated gap points are not detections.
std::vector<int64_t> track_lengths(const std::vector<Track>& tracks);
LengthSummary summarize_lengths(const std::vector<int64_t>& lengths);

} // namespace eval_tracks
