#include "calcium_target.hpp"

#include <algorithm>
#include <cmath>

namespace train_hybrid {

bool calcium_active(const std::vector<sim::CalciumEvent>& events, int64_t track_id, int64_t frame, int64_t rise_frames,
                    double fraction) {
    for (const auto& ev : events)
        if (ev.track_id == track_id && frame >= ev.onset_frame &&
            sim::transient_dff(ev, rise_frames, static_cast<double>(frame - ev.onset_frame)) >= fraction * ev.amplitude_dff)
            return true;
    return false;
}

void calcium_target(const std::vector<CalciumPunctum>& puncta, int64_t size, double radius, bool ignore_background, float* out) {
    std::fill_n(out, size * size, ignore_background ? -1.0f : 0.0f);
    // Inactive discs first, so that where discs overlap an active one wins.
    for (const bool pass_active : {false, true})
        for (const auto& p : puncta) {
            if (p.active != pass_active) continue;
            const auto lo = [&](double c) { return std::max<int64_t>(0, static_cast<int64_t>(std::floor(c - radius))); };
            const auto hi = [&](double c) { return std::min<int64_t>(size - 1, static_cast<int64_t>(std::ceil(c + radius))); };
            for (int64_t yy = lo(p.y); yy <= hi(p.y); ++yy)
                for (int64_t xx = lo(p.x); xx <= hi(p.x); ++xx)
                    if (std::hypot(static_cast<double>(xx) - p.x, static_cast<double>(yy) - p.y) <= radius)
                        out[yy * size + xx] = p.active ? 1.0f : 0.0f;
        }
}

} // namespace train_hybrid
