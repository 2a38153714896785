// sim.tirf: streams one simulated TIRF movie, its ground-truth tracks and,
// with calcium, the calcium channel and its transients.
#include <algorithm>
#include <memory>

#include <tbb/task_arena.h>

#include "nodes.hpp"
#include "spotflow_sim/simulator.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow/tensor.hpp"
#include "tables.hpp"

namespace sim {
namespace {

enum Port : int32_t { kMovie = 0, kTruth = 1, kCalcium = 2, kEvents = 3 };

struct Source {
    static constexpr const char* kContext = "sim.tirf";
    Source(const spotflow_host* h, const char* params_json) : Source(h, read_params(params_json)) {}
    Source(const spotflow_host* h, const SimParams& params) : Source(h, params, effective_seed(h, params.seed)) {}
    Source(const spotflow_host* h, const SimParams& params, uint64_t s)
        : host(h), p(params), seed(s), sim(params, s), arena(std::max(1, h->threads(h))) {}
    Source(const Source&) = delete; // the simulator and the arena stay where they were made
    Source& operator=(const Source&) = delete;

    spotflow_status pull(const spotflow_emitter* out);
    spotflow_status finish(const spotflow_emitter* out);

    spotflow_stream_info info(int64_t first, int64_t count, int32_t channel) const {
        return {first, count, p.num_frames, p.pixel_size_nm, p.frame_interval_s, channel, 0};
    }

    spotflow_status emit_movie(const spotflow_emitter* out, int32_t port, const Chunk& c,
                               std::vector<uint16_t>& pixels, int32_t channel) const {
        spotflow_packet packet{};
        packet.kind = SPOTFLOW_DATA_TENSOR;
        packet.info = info(c.first_frame, c.frames, channel);
        packet.tensor = spotflow::make_tensor<uint16_t>({c.frames, p.image_size, p.image_size}, std::move(pixels));
        return out->emit(out, port, &packet);
    }

    const spotflow_host* host;
    SimParams p;
    uint64_t seed;
    MovieSimulator sim;
    tbb::task_arena arena;
};

spotflow_status Source::pull(const spotflow_emitter* out) {
    Source& s = *this;
    if (s.sim.done()) return SPOTFLOW_DONE;
    Chunk c = s.arena.execute([&] { return s.sim.next_chunk(); });
    if (const auto st = s.emit_movie(out, kMovie, c, c.movie, 0); st != SPOTFLOW_OK) return st;

    spotflow_packet truth{};
    truth.kind = SPOTFLOW_DATA_TABLE;
    truth.info = s.info(c.first_frame, c.frames, 0);
    truth_table(c.truth, &truth.schema, &truth.array);
    if (const auto st = out->emit(out, kTruth, &truth); st != SPOTFLOW_OK) return st;

    if (s.p.calcium.enabled)
        if (const auto st = s.emit_movie(out, kCalcium, c, c.calcium, 1); st != SPOTFLOW_OK) return st;
    s.host->progress(s.host, c.first_frame + c.frames, s.p.num_frames);
    return SPOTFLOW_OK;
}

// At the end, with calcium: the ground-truth transients.
spotflow_status Source::finish(const spotflow_emitter* out) {
    Source& s = *this;
    if (!s.p.calcium.enabled) return SPOTFLOW_OK;
    spotflow_packet events{};
    events.kind = SPOTFLOW_DATA_TABLE;
    events.info = s.info(0, s.p.num_frames, 1);
    events_table(s.sim.events(), &events.schema, &events.array);
    return out->emit(out, kEvents, &events);
}

const spotflow_node_vtable kVtable = spotflow::node_vtable<Source>();
const std::string kSchema = params_schema("");

const spotflow_port_desc kOutputs[] = {
    {"movie", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, 0, "The simulated movie, T x H x W uint16 ADU, channel 0"},
    {"truth", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, 0,
     "Visible emitters per frame: frame, x, y, photons, track_id"},
    {"calcium", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, SPOTFLOW_PORT_OPTIONAL,
     "The calcium channel (channel 1), T x H x W uint16 ADU; only with calcium: true"},
    {"events", SPOTFLOW_TYPE_EVENTS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_OPTIONAL,
     "Ground-truth calcium transients: track_id, onset_frame, peak_frame, amplitude_dff, decay_frames; "
     "at the end, only with calcium: true"},
};

} // namespace

const spotflow_plugin_desc kTirfDesc = {"sim.tirf", kVersion,
                                       "Simulates a TIRF puncta movie with ground-truth tracks (and a calcium channel)",
                                       "source", nullptr, 0, 4, kOutputs, kSchema.c_str(), &kVtable, nullptr};

} // namespace sim
