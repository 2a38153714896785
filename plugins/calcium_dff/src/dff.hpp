// ΔF/F0 along one track's intensity trace, and transient detection on it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace calcium_dff {

enum class Baseline { Percentile, Maximin };

struct BaselineOptions {
    Baseline method = Baseline::Percentile;
    int window = 100;         // frames (odd or even; centred)
    double percentile = 8;    // for Percentile
    double smooth_sigma = 2;  // frames, Gaussian smoothing before Maximin
};

// F0 per frame: a running percentile of f over a centred window (only the
// frames that have a value count), or maximin (suite2p: Gaussian smoothing,
// rolling minimum, rolling maximum). Missing frames (nullopt) stay missing.
std::vector<std::optional<double>> baseline(const std::vector<std::optional<double>>& f, const BaselineOptions& o);

struct EventOptions {
    double k = 3;      // threshold in robust standard deviations of dff
    int min_frames = 2; // consecutive frames above it
    // Hysteresis: an event found above k extends back and forward while dff
    // stays above this many robust sd, and events that then touch are one;
    // a decay that dips below k and back does not split an event, and the
    // onset is where the rise starts rather than where it crosses k.
    double k_low = 1;
};

struct Event {
    int64_t onset, peak, end; // indices into the trace; end inclusive
    double amplitude;         // dff at the peak
};

// Runs of at least min_frames consecutive present values above k x the
// robust std (1.4826 MAD around the median) of the trace's dff, each
// extended while dff stays above k_low x that std (hysteresis), overlapping
// or touching extended runs merged. A missing frame ends a run.
std::vector<Event> detect_events(const std::vector<std::optional<double>>& dff, const EventOptions& o);

} // namespace calcium_dff
