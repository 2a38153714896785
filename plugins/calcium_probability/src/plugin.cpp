// calcium.probability: calcium events (onset, peak, end, position) from a
// per-detection calcium-event probability along tracks (detect.hybrid's
// calcium_probability, carried through link.lap).
#include <cmath>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "runs.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow_tables/accumulator.hpp"
#include "schema.json.hpp"

namespace calcium_probability {
namespace {

using spotflow::PluginError;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

struct State {
    std::string column;
    RunOptions options;
    spotflow::tables::TableAccumulator tracks;
    int64_t total_frames = -1;
    double frame_interval_s = 0;
};

State make_state(const spotflow_host*, const char* params_json) {
    const auto p = nlohmann::json::parse(params_json);
    return State{p.at("probability_column"), {p.at("threshold"), p.at("min_frames"), p.at("max_gap_frames")}, {}, -1, 0};
}

spotflow_status process(State& s, const spotflow_input*, const spotflow_packet* in, const spotflow_emitter*) {
    try {
        s.tracks.append(in->schema, in->array);
    } catch (const std::invalid_argument& x) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("tracks: ") + x.what());
    }
    if (in->info.total_frames > 0) s.total_frames = in->info.total_frames;
    if (in->info.frame_interval_s > 0) s.frame_interval_s = in->info.frame_interval_s;
    return SPOTFLOW_OK;
}

spotflow_status finish(State& s, const spotflow_emitter* out) {
    std::vector<int64_t> frame, id;
    std::vector<double> x, y, prob;
    if (s.tracks.rows() > 0) {
        if (!s.tracks.has(s.column))
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                              "tracks: no column '" + s.column + "' (probability_column; detect.hybrid writes calcium_probability)");
        try {
            frame = s.tracks.ints("frame");
            id = s.tracks.ints("track_id");
            x = s.tracks.doubles("x");
            y = s.tracks.doubles("y");
            prob = s.tracks.doubles(s.column);
        } catch (const std::invalid_argument& ex) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("tracks: ") + ex.what());
        }
    }
    // Points by track, then by frame (the first point of a track in a frame counts).
    std::map<int64_t, std::map<int64_t, size_t>> by_track;
    for (size_t r = 0; r < frame.size(); ++r) {
        if (!std::isfinite(prob[r]) || prob[r] < 0 || prob[r] > 1)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                              "tracks: row " + std::to_string(r) + " (track " + std::to_string(id[r]) + ", frame " +
                                  std::to_string(frame[r]) + "): " + s.column + " is " + std::to_string(prob[r]) +
                                  ", not a probability in [0, 1]");
        by_track[id[r]].emplace(frame[r], r);
    }
    spotflow::TableBuilder eb;
    using spotflow::ColumnType;
    const auto e_id = eb.add_column("track_id", ColumnType::Int64), e_on = eb.add_column("onset_frame", ColumnType::Int64),
               e_pk = eb.add_column("peak_frame", ColumnType::Int64), e_end = eb.add_column("end_frame", ColumnType::Int64),
               e_dur = eb.add_column("duration_frames", ColumnType::Int64), e_x = eb.add_column("x", ColumnType::Float64),
               e_y = eb.add_column("y", ColumnType::Float64), e_p = eb.add_column("probability", ColumnType::Float64),
               e_mean = eb.add_column("mean_probability", ColumnType::Float64);
    for (const auto& [track, points] : by_track) {
        std::vector<int64_t> f;
        std::vector<double> p;
        std::vector<size_t> row;
        for (const auto& [t, r] : points) f.push_back(t), p.push_back(prob[r]), row.push_back(r);
        for (const Run& run : find_runs(f, p, s.options)) {
            eb.append_int(e_id, track);
            eb.append_int(e_on, f[run.onset]);
            eb.append_int(e_pk, f[run.peak]);
            eb.append_int(e_end, f[run.end]);
            eb.append_int(e_dur, f[run.end] - f[run.onset] + 1);
            eb.append_double(e_x, x[row[run.onset]]);
            eb.append_double(e_y, y[row[run.onset]]);
            eb.append_double(e_p, run.peak_probability);
            eb.append_double(e_mean, run.mean_probability);
        }
    }
    spotflow_packet q{};
    q.kind = SPOTFLOW_DATA_TABLE;
    q.info.total_frames = s.total_frames;
    q.info.frame_interval_s = s.frame_interval_s;
    eb.finish(&q.schema, &q.array);
    return out->emit(out, 0, &q);
}

constexpr char kExtracting[] = "extracting calcium events";

const spotflow_port_desc kInputs[] = {{"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM,
                                       "frame, x, y, track_id and the probability column"}};
const spotflow_port_desc kOutputs[] = {
    {"events", SPOTFLOW_TYPE_EVENTS, SPOTFLOW_DATA_TABLE, 0,
     "track_id, onset_frame, peak_frame, end_frame, duration_frames, x, y, probability, mean_probability"}};
const spotflow_node_vtable kVtable =
    spotflow::node_vtable<spotflow::FunctionNode<State, make_state, process, finish, kExtracting>>();
const spotflow_plugin_desc kDesc = {"calcium.probability", "1.0.0",
                                    "Calcium events as runs of a per-detection event probability along tracks",
                                    "extractor", kInputs, 1, 1, kOutputs, kSchema, &kVtable, nullptr};

} // namespace
} // namespace calcium_probability

SPOTFLOW_EXPORT_PLUGINS(calcium_probability::kDesc);
