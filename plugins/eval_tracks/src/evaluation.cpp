#include "evaluation.hpp"

#include <utility>

namespace eval_tracks {

GroundTruth make_ground_truth(std::vector<Track> tracks) {
    GroundTruth t;
    t.tracks = std::move(tracks);
    t.lengths = track_lengths(t.tracks);
    t.lengths_summary = summarize_lengths(t.lengths);
    return t;
}

Evaluation evaluate(const GroundTruth& truth, std::vector<Track> predicted, double gate) {
    Evaluation e;
    e.predicted = std::move(predicted);
    e.lengths = track_lengths(e.predicted);
    e.lengths_summary = summarize_lengths(e.lengths);
    e.challenge = score_challenge(truth.tracks, e.predicted, gate);
    e.fragmentation = measure_fragmentation(truth.tracks, e.predicted, gate);
    return e;
}

} // namespace eval_tracks
