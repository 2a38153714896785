// Scoring detected calcium transients against ground truth: optimal
// one-to-one matching of events within an onset tolerance and a distance
// gate, then precision, recall and F1 over events (eval.events, and the
// event-level scores of eval.calcium), and reading events from a table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "spotflow_tables/accumulator.hpp"

namespace spotflow::tables::events {

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

// The events of a table with onset_frame and either x, y or (with `tracks`,
// frame, x, y, track_id) a track_id: positions from the table's own x, y,
// else the punctum's position in `tracks` at the onset frame, or the nearest
// frame it is seen (NaN when neither). amplitude_dff is read when present.
// Throws std::invalid_argument naming `port` and the column.
std::vector<Event> events_of(const TableAccumulator& table, const std::string& port, const TableAccumulator* tracks);

} // namespace spotflow::tables::events
