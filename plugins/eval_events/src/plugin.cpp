// eval.events: detected calcium transients against the simulator's ground
// truth (event precision, recall and F1 with an onset tolerance).
#include <cmath>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow_tables/accumulator.hpp"
#include "schema.json.hpp"
#include "spotflow_tables/event_matching.hpp"

namespace eval_events {
namespace {

using spotflow::PluginError;
using spotflow::tables::TableAccumulator;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

const char* kPortNames[] = {"events", "truth_events", "truth"};

using spotflow::tables::events::Event;
using spotflow::tables::events::Options;
using spotflow::tables::events::Score;

// events_of with its column errors as one line naming the port.
std::vector<Event> events_of(const TableAccumulator& t, const char* port, const TableAccumulator* tracks) {
    try {
        return spotflow::tables::events::events_of(t, port, tracks);
    } catch (const std::invalid_argument& x) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, x.what());
    }
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
        const Score s = spotflow::tables::events::score(truth, predicted, options);
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
