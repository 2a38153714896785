// Per-track quality metrics for curation (README.md defines each one), and
// the labels a ground truth gives tracks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "spotflow_tables/accumulator.hpp"

namespace tracks_metrics {

struct Settings {
    int max_lag = 10;             // MSD lags for the exponent fit
    int diffusion_lags = 4;       // MSD lags for the diffusion coefficient
    double density_radius_px = 5; // local density
    double width = 0, height = 0; // image size in px; 0: unknown
    double break_radius_px = 10;  // break metrics: another track's end this close
    int break_frames = 10;        // ... and at most this many frames apart
};

// The metric columns, in output order (after track_id).
const std::vector<std::string>& metric_names();

struct TrackMetrics {
    int64_t track_id;
    std::vector<double> values; // one per metric_names(), NaN where undefined
};

// One entry per track id (ascending) of `tracks` (columns frame, x, y,
// track_id; optional photons, background, sigma, uncertainty, probability,
// interpolated, link_probability, link_cost). Rows without a track id are
// skipped. Throws std::invalid_argument naming a missing column or two
// points of one track in a frame.
std::vector<TrackMetrics> compute_metrics(const spotflow::tables::TableAccumulator& tracks, const Settings& s);

struct TrackLabel {
    int64_t track_id;
    std::string label;        // "good" or "bad"
    double matched_fraction;  // of its real points matched to its true track (NaN: none)
    int64_t truth_track_id;   // the true track it is paired with, -1 if none
};

// rule "paired": good when eval.tracks' one-to-one pairing (libs/tracks,
// gate eps) pairs it with a true track and at least min_fraction of its
// real points match that true track (per-frame optimal matching within
// gate, libs/tables). rule "majority": good when at least min_fraction of its
// points match one true track, paired or not (fragments count as good).
std::vector<TrackLabel> label_tracks(const spotflow::tables::TableAccumulator& tracks,
                                     const spotflow::tables::TableAccumulator& truth, double gate,
                                     double min_fraction, const std::string& rule);

} // namespace tracks_metrics
