// Scoring detected calcium transients against ground truth: optimal
// one-to-one matching of events within an onset tolerance and a distance
// gate, then precision, recall and F1 over events.
#pragma once

#include <cstdint>
#include <vector>

namespace eval_events {

struct Event {
    int64_t onset;
    double x, y;       // where the punctum is at onset (NaN if unknown: the gate is skipped)
    double amplitude;  // dF/F0 at the peak (NaN if unknown)
};

struct Options {
    int64_t onset_tolerance = 2; // frames
    double gate_px = 3.0;        // distance between the puncta at onset
};

struct Score {
    int64_t tp = 0, fp = 0, fn = 0;
    double precision = 0, recall = 0, f1 = 0;
    double mean_onset_error = 0;      // predicted - true, frames, over matches
    double mean_abs_onset_error = 0;
    std::vector<int64_t> match;       // per predicted event: the true event matched, or -1
};

Score score(const std::vector<Event>& truth, const std::vector<Event>& predicted, const Options& options);

} // namespace eval_events
