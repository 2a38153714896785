// One tracker scored against the ground truth: the challenge measures, the
// seed's fragmentation and track-length statistics.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "fragmentation.hpp"
#include "track_lengths.hpp"
#include "tracks.hpp"

namespace eval_tracks {

struct GroundTruth {
    std::vector<Track> tracks;
    std::vector<int64_t> lengths;
    LengthSummary lengths_summary;
};

GroundTruth make_ground_truth(std::vector<Track> tracks);

struct Evaluation {
    std::string label;  // the tracker's name in tables and figures
    std::string source; // the upstream "node.port"
    std::vector<Track> predicted;
    std::vector<int64_t> lengths;
    LengthSummary lengths_summary;
    ChallengeScore challenge;
    Fragmentation fragmentation;
    double wall_time_s = std::numeric_limits<double>::quiet_NaN(); // unless given
};

// gate: the challenge's eps and the fragmentation matching gate, in pixels.
Evaluation evaluate(const GroundTruth& truth, std::vector<Track> predicted, double gate);

} // namespace eval_tracks
