// eval.calcium's measures (definitions in docs/metrics.md and README.md):
// per punctum-frame event classification, puncta-calcium correlation, track
// completeness and co-localisation error. Pure functions on plain vectors,
// so the tests give hand-computed cases.
#pragma once

#include <cstdint>
#include <climits>
#include <cstddef>
#include <vector>

namespace eval_calcium {

constexpr int64_t kNoOwner = INT64_MIN;

// Points of a track table: one row per point.
struct Points {
    std::vector<int64_t> frame, track_id;
    std::vector<double> x, y;
    size_t size() const { return frame.size(); }
};

// A true transient on a true track (the simulator's shape: linear rise from
// onset to peak, then amplitude * exp(-(t - peak) / decay)). amplitude and
// decay NaN: the shape is unknown and the active window is onset..end
// (end = end_frame if given, else peak).
struct TrueEvent {
    int64_t track_id = 0, onset = 0, peak = 0, end = -1;
    double amplitude = 0, decay = 0;
};

// A detected transient: where (x, y at onset), when (onset..end, frames,
// inclusive) and how sure (probability, 1 if the detector gives none).
struct PredictedEvent {
    int64_t onset = 0, end = 0;
    double x = 0, y = 0, probability = 1;
};

struct Options {
    double gate_px = 3.0;          // a detected event belongs to a true punctum within this distance at its onset
    double active_fraction = 0.5;  // a true punctum-frame is active where its dF/F0 >= this fraction of the peak
    int64_t onset_tolerance = 2;   // event-level pairing (as eval.events)
    double pixel_size_nm = 108;
};

// dF/F0 of a true event `t` frames from its onset (0 before).
double true_dff(const TrueEvent& e, int64_t frame);
// Whether frame lies in the event's active window.
bool true_active(const TrueEvent& e, int64_t frame, double active_fraction);

struct Classification {
    int64_t tp = 0, fp = 0, fn = 0, tn = 0;
    int64_t spurious_frames = 0;   // FP frames of detected events with no true punctum within the gate
    double sensitivity = 0, specificity = 0, precision = 0, f1 = 0, iou = 0;
    std::vector<int64_t> owner;    // per predicted event: the track_id of its true punctum, or kNoOwner
};

// The per punctum-frame confusion over the true points: a true point is
// positive when a true event of its track is active there, predicted
// positive when a detected event assigned to its track covers its frame.
// A detected event is assigned to the true track nearest its (x, y) in its
// onset frame (or the nearest frame that track is seen, up to 2 frames
// away), within gate_px; its frames with no true point of that track, and
// all frames of an unassigned event, are false positives.
Classification classify(const Points& truth, const std::vector<TrueEvent>& events,
                        const std::vector<PredictedEvent>& predicted, const Options& o);

struct Correlation {
    double mean_r = 0;           // mean over the puncta that have one (NaN if none)
    double pooled_r = 0;         // over every true point at once (NaN if undefined)
    int64_t puncta = 0;          // puncta with a defined r
    std::vector<int64_t> track_id;
    std::vector<double> r;       // per true track, NaN where undefined
};

// Pearson r, per true track, between its true dF/F0 over its frames and the
// predicted activity at its points (`activity`, one value per truth row).
// Defined for a track with >= 3 points and non-zero variance in both series.
Correlation correlate(const Points& truth, const std::vector<TrueEvent>& events, const std::vector<double>& activity);

// The predicted activity per truth row from detected events: the largest
// probability among the events assigned to that track (classify's owner)
// whose window covers the frame, else 0.
std::vector<double> activity_from_events(const Points& truth, const std::vector<PredictedEvent>& predicted,
                                         const std::vector<int64_t>& owner_track);

struct Completeness {
    double mean = 0;                 // over true tracks (NaN without any)
    std::vector<int64_t> track_id;   // per true track
    std::vector<double> fraction;    // covered frames / its frames
};

// For each true track, the fraction of its points matched (per frame,
// optimal one-to-one within gate_px) to points of the one predicted track
// that covers most of them.
Completeness track_completeness(const Points& truth, const Points& predicted, double gate_px);

// Pearson r of two equal-length series (NaN if undefined).
double pearson(const std::vector<double>& a, const std::vector<double>& b);

// The distinct track ids of `truth` in increasing order.
std::vector<int64_t> track_ids(const Points& truth);

} // namespace eval_calcium
