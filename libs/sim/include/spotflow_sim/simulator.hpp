// One simulated movie, chunk by chunk: the track population steps through
// the chunk's frames in order, then the frames render in parallel, each from
// its own random stream, so neither the chunk size nor the thread count
// changes a pixel.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "spotflow_sim/params.hpp"
#include "spotflow_sim/random.hpp"
#include "spotflow_sim/tracks.hpp"

namespace sim {

// A visible emitter in one frame: a row of the ground truth.
struct TruthRow {
    int64_t frame = 0;
    double x = 0, y = 0;
    double photons = 0; // photons it emitted towards the camera this frame
    int64_t track_id = 0;
};

struct Chunk {
    int64_t first_frame = 0;
    int64_t frames = 0;
    std::vector<uint16_t> movie;   // frames x size x size, ADU
    std::vector<uint16_t> calcium; // the same for channel 1, when calcium is on
    std::vector<TruthRow> truth;   // by frame, then track id
};

class MovieSimulator {
public:
    MovieSimulator(const SimParams& p, uint64_t seed);

    bool done() const { return population_.frame() >= p_.num_frames; }
    // Tracks at frame 0: num_tracks, or the count drawn for this movie.
    int64_t initial_tracks() const { return p_.num_tracks; }
    // The next chunk_frames frames (fewer at the end). Renders with
    // tbb::parallel_for: call it inside the task_arena that bounds threads.
    Chunk next_chunk();
    // The calcium transients simulated so far (all of them once done()).
    const std::vector<CalciumEvent>& events() const { return population_.events(); }

private:
    // The background ADU law of a frame (see FrameModel), or NULL.
    std::unique_ptr<DiscreteSampler> adu_law(double background) const;

    SimParams p_;
    uint64_t seed_;
    TrackPopulation population_;
    // Without drift the law is the same in every frame: made once.
    std::unique_ptr<DiscreteSampler> movie_adu_, calcium_adu_;
};

} // namespace sim
