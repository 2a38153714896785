// eval.events: detected calcium transients against the simulator's ground
// truth (event precision, recall and F1 with an onset tolerance).
#include <cmath>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "events_match.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow_tables/accumulator.hpp"
#include "schema.json.hpp"

namespace eval_events {
namespace {

using spotflow::PluginError;
using spotflow::tables::TableAccumulator;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

const char* kPortNames[] = {"events", "truth_events", "truth"};

// Events of a table; positions from its own x, y columns, else from the
// truth tracks at the onset frame (NaN when neither has them).
std::vector<Event> events_of(const TableAccumulator& t, const char* port, const TableAccumulator* tracks) {
    std::vector<Event> out;
    if (t.rows() == 0) return out;
    try {
        const auto onset = t.ints("onset_frame");
        const bool has_xy = t.has("x") && t.has("y");
        const auto x = has_xy ? t.doubles("x") : std::vector<double>(onset.size(), std::nan(""));
        const auto y = has_xy ? t.doubles("y") : std::vector<double>(onset.size(), std::nan(""));
        const auto amp = t.has("amplitude_dff") ? t.doubles("amplitude_dff") : std::vector<double>(onset.size(), std::nan(""));
        std::map<std::pair<int64_t, int64_t>, std::pair<double, double>> where;
        std::vector<int64_t> ids;
        if (!has_xy && tracks && tracks->rows() > 0) {
            const auto tf = tracks->ints("frame"), ti = tracks->ints("track_id");
            const auto tx = tracks->doubles("x"), ty = tracks->doubles("y");
            for (size_t r = 0; r < tf.size(); ++r) where[{ti[r], tf[r]}] = {tx[r], ty[r]};
            ids = t.ints("track_id");
        }
        for (size_t r = 0; r < onset.size(); ++r) {
            Event ev{onset[r], x[r], y[r], amp[r]};
            if (!ids.empty()) {
                // The punctum may be off (blinking) at onset: take the
                // nearest frame it is seen.
                for (int64_t d = 0; d < 1000 && std::isnan(ev.x); ++d)
                    for (const int64_t f : {onset[r] - d, onset[r] + d})
                        if (const auto it = where.find({ids[r], f}); it != where.end() && std::isnan(ev.x))
                            ev.x = it->second.first, ev.y = it->second.second;
            }
            out.push_back(ev);
        }
    } catch (const std::invalid_argument& x) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(port) + ": " + x.what());
    }
    return out;
}

// One node: collects the three inputs, scores at finish.
class Evaluator {
public:
    static constexpr const char* kContext = "scoring events";

    Evaluator(const spotflow_host*, const char* params_json) {
        const auto p = nlohmann::json::parse(params_json);
        options = {p.at("onset_tolerance_frames"), p.at("gate_px")};
    }

    spotflow_status process(const spotflow_input& in, const spotflow_packet& p, const spotflow_emitter*) {
        TableAccumulator* target[] = {&predicted_, &truth_events, &truth_tracks};
        try {
            target[in.port]->append(p.schema, p.array);
        } catch (const std::invalid_argument& x) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(kPortNames[in.port]) + ": " + x.what());
        }
        return SPOTFLOW_OK;
    }

    spotflow_status finish(const spotflow_emitter* out) {
        const auto truth = events_of(truth_events, "truth_events", &truth_tracks);
        const auto predicted = events_of(predicted_, "events", nullptr);
        const Score s = score(truth, predicted, options);
        spotflow::TableBuilder b;
        using spotflow::ColumnType;
        const auto tp = b.add_column("true_positives", ColumnType::Int64), fp = b.add_column("false_positives", ColumnType::Int64),
                   fn = b.add_column("false_negatives", ColumnType::Int64), pr = b.add_column("precision", ColumnType::Float64),
                   re = b.add_column("recall", ColumnType::Float64), f1 = b.add_column("f1", ColumnType::Float64),
                   me = b.add_column("mean_onset_error_frames", ColumnType::Float64),
                   ma = b.add_column("mean_abs_onset_error_frames", ColumnType::Float64);
        b.append_int(tp, s.tp);
        b.append_int(fp, s.fp);
        b.append_int(fn, s.fn);
        b.append_double(pr, s.precision);
        b.append_double(re, s.recall);
        b.append_double(f1, s.f1);
        b.append_double(me, s.mean_onset_error);
        b.append_double(ma, s.mean_abs_onset_error);
        spotflow_packet p{};
        p.kind = SPOTFLOW_DATA_TABLE;
        b.finish(&p.schema, &p.array);
        return out->emit(out, 0, &p);
    }

private:
    Options options;
    TableAccumulator predicted_, truth_events, truth_tracks;
};

const spotflow_port_desc kInputs[] = {
    {"events", SPOTFLOW_TYPE_EVENTS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM, "detected: onset_frame, x, y (calcium.dff)"},
    {"truth_events", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM,
     "true: onset_frame and x, y, or track_id to find them in truth"},
    {"truth", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_OPTIONAL | SPOTFLOW_PORT_WHOLE_STREAM,
     "true tracks (frame, x, y, track_id), to place true events that lack x, y"}};
const spotflow_port_desc kOutputs[] = {{"metrics", SPOTFLOW_TYPE_METRICS, SPOTFLOW_DATA_TABLE, 0,
                                        "true/false positives, false negatives, precision, recall, f1, onset errors"}};
const spotflow_node_vtable kVtable = spotflow::node_vtable<Evaluator>();
const spotflow_plugin_desc kDesc = {"eval.events", "1.0.0",
                                    "Scores detected calcium transients against ground truth (event F1 with an onset tolerance)",
                                    "evaluator", kInputs, 3, 1, kOutputs, kSchema, &kVtable, nullptr};

} // namespace
} // namespace eval_events

SPOTFLOW_EXPORT_PLUGINS(eval_events::kDesc);
