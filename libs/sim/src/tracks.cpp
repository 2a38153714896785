#include "spotflow_sim/tracks.hpp"

#include <cmath>

namespace sim {

double transient_dff(const CalciumEvent& e, int64_t rise_frames, double since_onset) {
    if (since_onset < 0) return 0;
    if (since_onset < static_cast<double>(rise_frames))
        return e.amplitude_dff * since_onset / static_cast<double>(rise_frames);
    return e.amplitude_dff * std::exp(-(since_onset - static_cast<double>(rise_frames)) / e.decay_frames);
}

TrackPopulation::TrackPopulation(const SimParams& p, uint64_t seed)
    : p_(p), dyn_(stream_seed(seed, Stream::Dynamics)), cal_(stream_seed(seed, Stream::Calcium)),
      lo_(p.margin_px), hi_(static_cast<double>(p.image_size - 1) - p.margin_px) {
    for (int64_t i = 0; i < p_.num_tracks; ++i) tracks_.push_back(born(true));
}

// Mean `mean`, coefficient of variation photons_cv: lognormal with
// sigma^2 = ln(1 + cv^2), mu = ln(mean) - sigma^2 / 2, or gamma with shape
// 1 / cv^2 and scale mean cv^2.
double TrackPopulation::spread(Rng& rng, double mean) const {
    const double cv = p_.photons_cv;
    if (cv <= 0 || mean <= 0) return mean;
    if (p_.photons_distribution == Spread::Gamma) return gamma(rng, normal_, 1.0 / (cv * cv)) * mean * cv * cv;
    const double s2 = std::log1p(cv * cv);
    return std::exp(std::log(mean) - 0.5 * s2 + std::sqrt(s2) * normal_(rng));
}

TrackPopulation::Track TrackPopulation::born(bool stationary_blink) {
    Track t{};
    t.id = next_id_++;
    t.x = lo_ + (hi_ - lo_) * dyn_.uniform();
    t.y = lo_ + (hi_ - lo_) * dyn_.uniform();
    // One draw decides the motion class (directed, confined or free), so
    // that with confined_fraction 0 the stream, and every movie, is as before.
    const double kind = dyn_.uniform();
    const bool directed = kind < p_.directed_fraction;
    t.confined = !directed && kind < p_.directed_fraction + p_.confined_fraction;
    t.ax = t.x;
    t.ay = t.y;
    const double angle = 2 * M_PI * dyn_.uniform();
    t.vx = directed ? p_.speed_px_per_frame * std::cos(angle) : 0;
    t.vy = directed ? p_.speed_px_per_frame * std::sin(angle) : 0;
    t.mean_photons = spread(dyn_, p_.photons);
    // Tracks present at frame 0 start in the blinking chain's stationary
    // state; tracks born later appear visible.
    const double p_off = p_.blink_off_probability, p_on = p_.blink_on_probability;
    const double u = dyn_.uniform();
    t.on = !stationary_blink || p_off + p_on == 0 || u >= p_off / (p_off + p_on);
    return t;
}

bool TrackPopulation::move(double& x, double& v, double step) const {
    x += step;
    if (p_.boundary == Boundary::End) return x >= -0.5 && x < static_cast<double>(p_.image_size) - 0.5;
    if (hi_ <= lo_) {
        x = lo_;
        return true;
    }
    // Mirror at the bounds; a directed track's velocity mirrors with it.
    while (x < lo_ || x > hi_) {
        x = x < lo_ ? 2 * lo_ - x : 2 * hi_ - x;
        v = -v;
    }
    return true;
}

// The corral: a step that would end outside the disc is not taken (the
// particle stays where it was this frame). Because the Gaussian step is
// symmetric, this is a Metropolis chain whose stationary law is exactly
// uniform on the disc (mean squared distance from the centre R^2 / 2),
// whatever the step size; for steps short against R it is the reflecting
// wall. (Mirroring the radius, r -> 2R - r, is not: it crowds the centre.)
void TrackPopulation::confine(const Track& t, double& dx, double& dy) const {
    const double R = p_.confinement_radius_px;
    if (std::hypot(t.x + dx - t.ax, t.y + dy - t.ay) > R) dx = dy = 0;
}

void TrackPopulation::advance() {
    const double step_sd = std::sqrt(2 * p_.diffusion_px2_per_frame);
    const bool mortal = p_.mean_lifetime_frames > 0;
    std::vector<Track> alive;
    alive.reserve(tracks_.size());
    for (Track& t : tracks_) {
        if (mortal && dyn_.uniform() < 1.0 / p_.mean_lifetime_frames) continue;
        double dx = t.vx + step_sd * normal_(dyn_);
        double dy = t.vy + step_sd * normal_(dyn_);
        if (t.confined) confine(t, dx, dy);
        const bool inside_x = move(t.x, t.vx, dx);
        const bool inside_y = move(t.y, t.vy, dy);
        const double u = dyn_.uniform();
        t.on = t.on ? u >= p_.blink_off_probability : u < p_.blink_on_probability;
        if (inside_x && inside_y) alive.push_back(std::move(t));
    }
    tracks_ = std::move(alive);
    if (mortal) {
        const int64_t births = poisson(dyn_, static_cast<double>(p_.num_tracks) / p_.mean_lifetime_frames);
        for (int64_t i = 0; i < births; ++i) tracks_.push_back(born(false));
    }
}

double TrackPopulation::calcium_dff(Track& t) {
    const CalciumParams& c = p_.calcium;
    if (!t.calcium_ready) {
        t.calcium_ready = true;
        t.f0 = spread(cal_, c.photons);
    }
    if (frame_ >= t.quiet_until && cal_.uniform() < c.event_rate) {
        CalciumEvent e;
        e.track_id = t.id;
        e.onset_frame = frame_;
        e.peak_frame = frame_ + c.rise_frames;
        e.amplitude_dff = c.amplitude_dff_min + (c.amplitude_dff_max - c.amplitude_dff_min) * cal_.uniform();
        e.decay_frames = c.decay_frames;
        t.live_events.push_back(events_.size());
        events_.push_back(e);
        t.quiet_until = frame_ + static_cast<int64_t>(std::ceil(std::max(1.0, c.refractory_frames)));
    }
    double dff = 0;
    std::vector<size_t> still;
    for (const size_t i : t.live_events) {
        const CalciumEvent& e = events_[i];
        const double since = static_cast<double>(frame_ - e.onset_frame);
        dff += transient_dff(e, c.rise_frames, since);
        // Past 40 tau a transient adds under 5e-18 of its amplitude.
        if (since < static_cast<double>(c.rise_frames) + 40 * e.decay_frames) still.push_back(i);
    }
    t.live_events = std::move(still);
    return dff;
}

void TrackPopulation::next_frame(std::vector<EmitterState>& out) {
    if (frame_ > 0) advance();
    out.clear();
    for (Track& t : tracks_) {
        EmitterState s;
        s.track_id = t.id;
        s.x = t.x;
        s.y = t.y;
        s.visible = t.on;
        s.mean_photons = t.mean_photons;
        if (p_.calcium.enabled) {
            const double dff = calcium_dff(t); // sets f0 on the track's first frame
            s.calcium_photons = t.f0 * (1.0 + dff);
        }
        out.push_back(s);
    }
    ++frame_;
}

} // namespace sim
