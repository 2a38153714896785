// eval.calcium: the seed's calcium measures against simulated ground truth:
// per punctum-frame event F1, sensitivity and specificity; event-level F1
// (eval.events' pairing); puncta-calcium correlation; track completeness;
// co-localisation error in nm. Definitions: README.md, docs/metrics.md.
#include <algorithm>
#include <cmath>
#include <map>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "calcium_metrics.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow_tables/accumulator.hpp"
#include "spotflow_tables/event_matching.hpp"
#include "spotflow_tables/frame_matching.hpp"
#include "schema.json.hpp"

namespace eval_calcium {
namespace {

using spotflow::PluginError;
using spotflow::tables::TableAccumulator;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

const char* kPortNames[] = {"events", "truth_events", "truth", "tracks", "activity"};
enum Port { kEvents, kTruthEvents, kTruth, kTracks, kActivity };

Points points_of(const TableAccumulator& t, const char* port, bool need_id) {
    Points p;
    try {
        p.frame = t.ints("frame");
        p.x = t.doubles("x");
        p.y = t.doubles("y");
        p.track_id = need_id ? t.ints("track_id") : std::vector<int64_t>(p.frame.size(), 0);
    } catch (const std::invalid_argument& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(port) + ": " + e.what());
    }
    for (size_t r = 0; r < p.size(); ++r)
        if (!std::isfinite(p.x[r]) || !std::isfinite(p.y[r]))
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                              std::string(port) + ": row " + std::to_string(r) + " has a missing or non-finite x or y");
    return p;
}

class Evaluator {
public:
    static constexpr const char* kContext = "scoring calcium";

    Evaluator(const spotflow_host* host, const char* params_json) : host_(host) {
        const auto p = nlohmann::json::parse(params_json);
        o_.gate_px = p.at("gate_px");
        o_.active_fraction = p.at("active_fraction");
        o_.onset_tolerance = p.at("onset_tolerance_frames");
        o_.pixel_size_nm = p.at("pixel_size_nm");
        activity_column_ = p.at("activity_column").get<std::string>();
    }

    spotflow_status process(const spotflow_input& in, const spotflow_packet& p, const spotflow_emitter*) {
        try {
            tables_[in.port].append(p.schema, p.array);
        } catch (const std::invalid_argument& x) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(kPortNames[in.port]) + ": " + x.what());
        }
        return SPOTFLOW_OK;
    }

    spotflow_status finish(const spotflow_emitter* out) {
        const TableAccumulator& truth_t = tables_[kTruth];
        if (truth_t.rows() == 0) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "truth: no true points to score against");
        const Points truth = points_of(truth_t, "truth", true);
        const auto true_events = read_true_events(truth);
        const auto predicted = read_predicted_events();

        const Classification c = classify(truth, true_events, predicted, o_);
        // Event level: eval.events' pairing, true events placed on their tracks.
        namespace ev = spotflow::tables::events;
        std::vector<ev::Event> te, pe;
        try {
            te = ev::events_of(tables_[kTruthEvents], "truth_events", &truth_t);
        } catch (const std::invalid_argument& x) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, x.what());
        }
        for (const auto& p : predicted) pe.push_back({p.onset, p.x, p.y, kNaN});
        const ev::Score es = ev::score(te, pe, {o_.onset_tolerance, o_.gate_px});
        // Co-localisation: each paired detection's distance to its true punctum at the true onset.
        double coloc_sum = 0;
        std::vector<double> coloc;
        for (size_t k = 0; k < pe.size(); ++k) {
            const int64_t t = es.match[k];
            if (t < 0) continue;
            const double d = std::hypot(pe[k].x - te[static_cast<size_t>(t)].x, pe[k].y - te[static_cast<size_t>(t)].y);
            if (!std::isfinite(d)) continue;
            coloc.push_back(d * o_.pixel_size_nm);
            coloc_sum += coloc.back();
        }
        std::sort(coloc.begin(), coloc.end());
        const double coloc_mean = coloc.empty() ? kNaN : coloc_sum / static_cast<double>(coloc.size());
        const double coloc_median =
            coloc.empty() ? kNaN
                          : (coloc.size() % 2 ? coloc[coloc.size() / 2]
                                              : 0.5 * (coloc[coloc.size() / 2 - 1] + coloc[coloc.size() / 2]));

        // Activity: the detections' own probabilities if given, else the events'.
        std::vector<double> activity;
        const bool from_detections = host_->input_count(host_, kActivity) > 0;
        if (from_detections) activity = activity_from_detections(truth);
        else activity = activity_from_events(truth, predicted, c.owner);
        const Correlation r = correlate(truth, true_events, activity);

        Completeness tc;
        const bool have_tracks = host_->input_count(host_, kTracks) > 0;
        if (have_tracks) {
            const Points tracks = tables_[kTracks].rows() ? points_of(tables_[kTracks], "tracks", true) : Points{};
            tc = track_completeness(truth, tracks, o_.gate_px);
        } else {
            tc.mean = kNaN;
        }
        if (true_events.empty())
            host_->log(host_, SPOTFLOW_LOG_WARNING, "truth_events is empty: sensitivity, F1 and the correlation are undefined (NaN)");
        if (c.spurious_frames > 0 && c.spurious_frames * 2 > c.fp)
            host_->log(host_, SPOTFLOW_LOG_WARNING,
                       (std::to_string(c.spurious_frames) + " of " + std::to_string(c.fp) +
                        " false-positive punctum-frames belong to no true punctum: are the events in the truth's coordinates?")
                           .c_str());

        emit_metrics(out, c, es, r, tc, coloc_mean, coloc_median, static_cast<int64_t>(coloc.size()), from_detections);
        emit_per_punctum(out, truth, true_events, r, tc, have_tracks);
        return SPOTFLOW_OK;
    }

private:
    std::vector<TrueEvent> read_true_events(const Points& truth) {
        const TableAccumulator& t = tables_[kTruthEvents];
        std::vector<TrueEvent> out;
        if (t.rows() == 0) return out;
        try {
            const auto id = t.ints("track_id"), onset = t.ints("onset_frame");
            const auto peak = t.has("peak_frame") ? t.ints("peak_frame") : onset;
            const auto end = t.has("end_frame") ? t.ints("end_frame") : std::vector<int64_t>(onset.size(), -1);
            const auto amp = t.has("amplitude_dff") ? t.doubles("amplitude_dff") : std::vector<double>(onset.size(), kNaN);
            const auto decay = t.has("decay_frames") ? t.doubles("decay_frames") : std::vector<double>(onset.size(), kNaN);
            const auto ids = track_ids(truth);
            for (size_t r = 0; r < onset.size(); ++r) {
                if (peak[r] < onset[r])
                    throw std::invalid_argument("row " + std::to_string(r) + ": peak_frame " + std::to_string(peak[r]) +
                                                " is before onset_frame " + std::to_string(onset[r]));
                if (!std::binary_search(ids.begin(), ids.end(), id[r]))
                    throw std::invalid_argument("row " + std::to_string(r) + ": track_id " + std::to_string(id[r]) +
                                                " is not a track of truth");
                out.push_back({id[r], onset[r], peak[r], end[r], amp[r], decay[r]});
            }
        } catch (const std::invalid_argument& x) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("truth_events: ") + x.what());
        }
        return out;
    }

    std::vector<PredictedEvent> read_predicted_events() {
        const TableAccumulator& t = tables_[kEvents];
        std::vector<PredictedEvent> out;
        if (t.rows() == 0) return out;
        try {
            const auto onset = t.ints("onset_frame");
            const auto x = t.doubles("x"), y = t.doubles("y");
            // The window: onset..end_frame, else onset..peak_frame, else the onset alone.
            const auto end = t.has("end_frame") ? t.ints("end_frame") : t.has("peak_frame") ? t.ints("peak_frame") : onset;
            const auto prob = t.has("probability") ? t.doubles("probability") : std::vector<double>(onset.size(), 1.0);
            for (size_t r = 0; r < onset.size(); ++r) {
                if (!std::isfinite(x[r]) || !std::isfinite(y[r]))
                    throw std::invalid_argument("row " + std::to_string(r) + " has a missing or non-finite x or y");
                if (end[r] < onset[r])
                    throw std::invalid_argument("row " + std::to_string(r) + ": its end is before its onset_frame");
                if (end[r] - onset[r] > 1000000)
                    throw std::invalid_argument("row " + std::to_string(r) + ": an event over a million frames long");
                if (!(prob[r] >= 0 && prob[r] <= 1))
                    throw std::invalid_argument("row " + std::to_string(r) + ": probability " + std::to_string(prob[r]) +
                                                " is outside [0, 1]");
                out.push_back({onset[r], end[r], x[r], y[r], prob[r]});
            }
        } catch (const std::invalid_argument& x) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("events: ") + x.what());
        }
        return out;
    }

    // Per truth row, the activity of the detection matched to it in its
    // frame (optimal one-to-one within the gate), 0 if none.
    std::vector<double> activity_from_detections(const Points& truth) {
        const TableAccumulator& t = tables_[kActivity];
        std::vector<double> a(truth.size(), 0.0);
        if (t.rows() == 0) return a;
        const Points det = points_of(t, "activity", false);
        std::vector<double> v;
        try {
            v = t.doubles(activity_column_);
        } catch (const std::invalid_argument& x) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("activity: ") + x.what());
        }
        const spotflow::tables::FramePoints tp{truth.frame, truth.x, truth.y}, dp{det.frame, det.x, det.y};
        const auto match = spotflow::tables::match_by_frame(tp, dp, o_.gate_px);
        for (size_t r = 0; r < truth.size(); ++r)
            if (match[r] >= 0) {
                const double x = v[static_cast<size_t>(match[r])];
                if (!std::isfinite(x))
                    throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "activity: row " + std::to_string(match[r]) + " has a missing " +
                                                                         activity_column_);
                a[r] = x;
            }
        return a;
    }

    void emit_metrics(const spotflow_emitter* out, const Classification& c, const spotflow::tables::events::Score& es,
                      const Correlation& r, const Completeness& tc, double coloc_mean, double coloc_median,
                      int64_t coloc_n, bool from_detections) {
        using spotflow::ColumnType;
        spotflow::TableBuilder b;
        const auto ints = [&](const char* name, int64_t v) { b.append_int(b.add_column(name, ColumnType::Int64), v); };
        const auto dbl = [&](const char* name, double v) { b.append_double(b.add_column(name, ColumnType::Float64), v); };
        ints("punctum_frames_tp", c.tp);
        ints("punctum_frames_fp", c.fp);
        ints("punctum_frames_fn", c.fn);
        ints("punctum_frames_tn", c.tn);
        dbl("f1", c.f1);
        dbl("sensitivity", c.sensitivity);
        dbl("specificity", c.specificity);
        dbl("precision", c.precision);
        dbl("iou", c.iou);
        ints("events_tp", es.tp);
        ints("events_fp", es.fp);
        ints("events_fn", es.fn);
        dbl("event_precision", es.precision);
        dbl("event_recall", es.recall);
        dbl("event_f1", es.f1);
        dbl("mean_onset_error_frames", es.tp ? es.mean_onset_error : kNaN);
        dbl("correlation", r.mean_r);
        dbl("correlation_pooled", r.pooled_r);
        ints("correlation_puncta", r.puncta);
        b.append_string(b.add_column("activity_source", ColumnType::Utf8), from_detections ? "activity" : "events");
        dbl("track_completeness", tc.mean);
        dbl("colocalisation_error_nm", coloc_mean);
        dbl("colocalisation_median_nm", coloc_median);
        ints("colocalisation_pairs", coloc_n);
        spotflow_packet p{};
        p.kind = SPOTFLOW_DATA_TABLE;
        b.finish(&p.schema, &p.array);
        if (const auto st = out->emit(out, 0, &p); st != SPOTFLOW_OK) throw PluginError(st, "emitting metrics");
    }

    void emit_per_punctum(const spotflow_emitter* out, const Points& truth, const std::vector<TrueEvent>& events,
                          const Correlation& r, const Completeness& tc, bool have_tracks) {
        using spotflow::ColumnType;
        spotflow::TableBuilder b;
        const auto id = b.add_column("track_id", ColumnType::Int64), n = b.add_column("frames", ColumnType::Int64),
                   ne = b.add_column("true_events", ColumnType::Int64), cr = b.add_column("correlation", ColumnType::Float64),
                   co = b.add_column("completeness", ColumnType::Float64);
        std::map<int64_t, int64_t> frames, nev;
        for (const int64_t t : truth.track_id) ++frames[t];
        for (const auto& e : events) ++nev[e.track_id];
        for (size_t k = 0; k < r.track_id.size(); ++k) {
            b.append_int(id, r.track_id[k]);
            b.append_int(n, frames[r.track_id[k]]);
            b.append_int(ne, nev[r.track_id[k]]);
            b.append_double(cr, r.r[k]);
            b.append_double(co, have_tracks ? tc.fraction[k] : kNaN); // both in increasing track id order
        }
        spotflow_packet p{};
        p.kind = SPOTFLOW_DATA_TABLE;
        b.finish(&p.schema, &p.array);
        if (const auto st = out->emit(out, 1, &p); st != SPOTFLOW_OK) throw PluginError(st, "emitting per_punctum");
    }

    const spotflow_host* host_;
    Options o_;
    std::string activity_column_;
    TableAccumulator tables_[5];
};

const spotflow_port_desc kInputs[] = {
    {"events", SPOTFLOW_TYPE_EVENTS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM,
     "detected transients: onset_frame, x, y, and end_frame or peak_frame (+ probability): calcium.dff, calcium.probability"},
    {"truth_events", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM,
     "true transients: track_id, onset_frame, peak_frame (+ amplitude_dff, decay_frames; sim.tirf's events)"},
    {"truth", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM,
     "true tracks: frame, x, y, track_id (sim.tirf's truth): the punctum-frames scored"},
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_OPTIONAL | SPOTFLOW_PORT_WHOLE_STREAM,
     "linked tracks (frame, x, y, track_id), for track completeness"},
    {"activity", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_OPTIONAL | SPOTFLOW_PORT_WHOLE_STREAM,
     "per-detection predicted activity (frame, x, y, calcium_probability), for the correlation"}};
const spotflow_port_desc kOutputs[] = {
    {"metrics", SPOTFLOW_TYPE_METRICS, SPOTFLOW_DATA_TABLE, 0,
     "one row: punctum-frame F1, sensitivity, specificity, IoU; event-level F1; correlation; track completeness; co-localisation error"},
    {"per_punctum", SPOTFLOW_TYPE_METRICS, SPOTFLOW_DATA_TABLE, 0,
     "one row per true track: frames, true events, correlation, completeness"}};
const spotflow_node_vtable kVtable = spotflow::node_vtable<Evaluator>();
const spotflow_plugin_desc kDesc = {
    "eval.calcium", "1.0.0",
    "Scores calcium events per punctum-frame (F1, sensitivity, specificity), puncta-calcium correlation, track completeness, co-localisation",
    "evaluator", kInputs, 5, 2, kOutputs, kSchema, &kVtable, nullptr};

} // namespace
} // namespace eval_calcium

SPOTFLOW_EXPORT_PLUGINS(eval_calcium::kDesc);
