// The emitters behind the movie: tracks that are born, move, blink and die,
// frame by frame, and (with calcium) their calcium transients. Two streams
// drive it, so switching calcium on leaves the puncta unchanged: Dynamics
// (births, deaths, motion, blinking, brightness) and Calcium.
#pragma once

#include <cstdint>
#include <vector>

#include "spotflow_sim/params.hpp"
#include "spotflow_sim/random.hpp"
#include "spotflow_sim/rng.hpp"

namespace sim {

// One live track in one frame.
struct EmitterState {
    int64_t track_id = 0;
    double x = 0, y = 0;        // pixels, centre of the top-left pixel at (0, 0)
    bool visible = true;        // false while blinked off
    double mean_photons = 0;    // photons reaching the camera per frame, mean
    double calcium_photons = 0; // F0 (1 + dF/F0 at this frame), mean, when calcium is on
};

// A ground-truth calcium transient: dF/F0 rises linearly from 0 at
// onset_frame to amplitude_dff at peak_frame = onset_frame + rise_frames,
// then decays as amplitude_dff exp(-(t - peak_frame) / decay_frames).
struct CalciumEvent {
    int64_t track_id = 0;
    int64_t onset_frame = 0;
    int64_t peak_frame = 0;
    double amplitude_dff = 0;
    double decay_frames = 0;
};

// dF/F0 of one transient, `since_onset` frames after its onset.
double transient_dff(const CalciumEvent& e, int64_t rise_frames, double since_onset);

class TrackPopulation {
public:
    TrackPopulation(const SimParams& p, uint64_t seed);

    // The live tracks of the next frame (frame 0 first), in track id order.
    void next_frame(std::vector<EmitterState>& out);
    int64_t frame() const { return frame_; } // the frame next_frame returns next

    // Every transient whose onset has been simulated so far.
    const std::vector<CalciumEvent>& events() const { return events_; }

private:
    struct Track {
        int64_t id;
        double x, y, vx, vy;
        bool confined;  // diffuses inside a disc of confinement_radius_px around (ax, ay)
        double ax, ay;  // its start position, the disc's centre
        bool on;
        double mean_photons;
        // calcium
        bool calcium_ready = false;
        double f0 = 0;
        int64_t quiet_until = 0;           // no onset before this frame (refractory)
        std::vector<size_t> live_events;   // indices into events_ still contributing
    };

    Track born(bool stationary_blink);
    void advance(); // from frame_ - 1 to frame_: deaths, motion, blinking, births
    bool move(double& x, double& v, double step) const; // false: left the image (boundary end)
    void confine(const Track& t, double& dx, double& dy) const; // cancels a step that leaves t's disc
    double calcium_dff(Track& t);
    double spread(Rng& rng, double mean) const;

    SimParams p_;
    Rng dyn_;
    Rng cal_;
    Normal normal_;
    std::vector<Track> tracks_;
    std::vector<CalciumEvent> events_;
    int64_t next_id_ = 0;
    int64_t frame_ = 0;
    double lo_, hi_; // reflection bounds
};

} // namespace sim
