#include "spotflow_sim/simulator.hpp"

#include <algorithm>

#include <tbb/parallel_for.h>

#include "spotflow_sim/camera.hpp"
#include "spotflow_sim/random.hpp"
#include "spotflow_sim/render.hpp"
#include "spotflow_sim/rng.hpp"

namespace sim {

namespace {
// The movie's parameters with a Poisson track count drawn, when asked, from
// a stream of its own so the rest of the movie does not shift with it.
SimParams with_track_count(SimParams p, uint64_t seed) {
    if (p.num_tracks_poisson) {
        Rng rng(stream_seed(seed, Stream::TrackCount));
        p.num_tracks = poisson(rng, static_cast<double>(p.num_tracks));
        p.num_tracks_poisson = false;
    }
    return p;
}
} // namespace

MovieSimulator::MovieSimulator(const SimParams& p, uint64_t seed)
    : p_(with_track_count(p, seed)), seed_(seed), population_(p_, seed) {
    if (p_.background_drift == 0) {
        movie_adu_ = adu_law(p_.background);
        if (p_.calcium.enabled) calcium_adu_ = adu_law(p_.calcium.background);
    }
}

std::unique_ptr<DiscreteSampler> MovieSimulator::adu_law(double background) const {
    return p_.background_gradient == 0 ? background_adu(p_.camera, background) : nullptr;
}

Chunk MovieSimulator::next_chunk() {
    Chunk c;
    c.first_frame = population_.frame();
    c.frames = std::min(p_.chunk_frames, p_.num_frames - c.first_frame);
    std::vector<std::vector<EmitterState>> states(static_cast<size_t>(c.frames));
    for (auto& s : states) population_.next_frame(s);

    const int64_t size = p_.image_size;
    const auto frame_pixels = static_cast<size_t>(size * size);
    c.movie.resize(frame_pixels * static_cast<size_t>(c.frames));
    if (p_.calcium.enabled) c.calcium.resize(c.movie.size());
    std::vector<std::vector<TruthRow>> truth(static_cast<size_t>(c.frames));

    tbb::parallel_for(int64_t{0}, c.frames, [&](int64_t i) {
        const int64_t t = c.first_frame + i;
        const double drift = p_.num_frames > 1 ? p_.background_drift * static_cast<double>(t) /
                                                     static_cast<double>(p_.num_frames - 1)
                                               : 0.0;
        const auto& emitters = states[static_cast<size_t>(i)];

        FrameModel m{size, p_.sigma_px(), p_.background * (1.0 + drift), p_.background_gradient, p_.camera,
                     movie_adu_.get()};
        std::unique_ptr<DiscreteSampler> drifted;
        if (p_.background_drift != 0) {
            drifted = adu_law(m.background);
            m.background_adu = drifted.get();
        }
        std::vector<Spot> spots;
        std::vector<const EmitterState*> shown;
        for (const EmitterState& e : emitters)
            if (e.visible) {
                spots.push_back({e.x, e.y, e.mean_photons});
                shown.push_back(&e);
            }
        Rng rng(stream_seed(seed_, Stream::MovieFrame, static_cast<uint64_t>(t)));
        const std::vector<int64_t> emitted =
            render_frame(m, spots, rng, c.movie.data() + static_cast<size_t>(i) * frame_pixels);
        auto& rows = truth[static_cast<size_t>(i)];
        for (size_t k = 0; k < shown.size(); ++k)
            rows.push_back({t, shown[k]->x, shown[k]->y, static_cast<double>(emitted[k]), shown[k]->track_id});

        if (!p_.calcium.enabled) return;
        // The calcium indicator does not blink with the punctum's label.
        FrameModel cm{size, p_.calcium_sigma_px(), p_.calcium.background * (1.0 + drift), p_.background_gradient,
                      p_.camera, calcium_adu_.get()};
        if (p_.background_drift != 0) {
            drifted = adu_law(cm.background);
            cm.background_adu = drifted.get();
        }
        std::vector<Spot> blobs;
        for (const EmitterState& e : emitters) blobs.push_back({e.x, e.y, e.calcium_photons});
        Rng crng(stream_seed(seed_, Stream::CalciumFrame, static_cast<uint64_t>(t)));
        render_frame(cm, blobs, crng, c.calcium.data() + static_cast<size_t>(i) * frame_pixels);
    });
    for (auto& rows : truth) c.truth.insert(c.truth.end(), rows.begin(), rows.end());
    return c;
}

} // namespace sim
