// calcium.dff: ΔF/F0 along tracks, and the transients in it.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "aperture.hpp"
#include "dff.hpp"
#include "frame_store.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow_plot/plot.hpp"
#include "spotflow_tables/accumulator.hpp"
#include "schema.json.hpp"

namespace calcium_dff {
namespace {

using spotflow::PluginError;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

struct Extractor {
    const spotflow_host* host;
    Aperture aperture;
    BaselineOptions baseline;
    double window_s;
    EventOptions events;
    std::string figure;
    int figure_tracks;
    spotflow::tables::TableAccumulator tracks;
    FrameStore movie;
    double frame_interval_s = 0;
};

Extractor make_state(const spotflow_host* host, const char* params_json) {
    const auto p = nlohmann::json::parse(params_json);
    Aperture a{p.at("aperture_radius_px"), p.at("annulus_inner_px"), p.at("annulus_outer_px")};
    if (a.annulus_inner < a.radius || a.annulus_outer <= a.annulus_inner)
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                          "need aperture_radius_px <= annulus_inner_px < annulus_outer_px");
    BaselineOptions b;
    b.method = p.at("baseline") == "maximin" ? Baseline::Maximin : Baseline::Percentile;
    b.window = p.at("baseline_window_frames");
    b.percentile = p.at("baseline_percentile");
    b.smooth_sigma = p.at("smooth_sigma_frames");
    return Extractor{host, a, b, p.at("baseline_window_s"), {p.at("event_threshold"), p.at("event_min_frames"), p.value("event_end_threshold", 1.0)},
                      p.at("figure"), p.at("figure_tracks"), {}, {}};
}

spotflow_status process(Extractor& e, const spotflow_input* input, const spotflow_packet* in, const spotflow_emitter*) {
    try {
        if (input->port == 0) {
            e.tracks.append(in->schema, in->array);
        } else {
            e.movie.append(in->tensor->dl_tensor, in->info.frame_offset);
            if (in->info.frame_interval_s > 0) e.frame_interval_s = in->info.frame_interval_s;
        }
    } catch (const std::invalid_argument& x) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(input->port == 0 ? "tracks: " : "movie: ") + x.what());
    }
    return SPOTFLOW_OK;
}

struct Trace {
    int64_t start = 0;
    std::vector<std::optional<double>> f;
    std::vector<double> x, y; // of the present points, NaN where missing
    std::vector<char> interpolated; // the point was made up by a gap filler, not detected
};

// The dF/F0 of the longest tracks, stacked, with their transients marked.
void draw(const Extractor& e, const std::map<int64_t, Trace>& traces,
          const std::vector<std::pair<int64_t, std::vector<std::optional<double>>>>& dff,
          const std::vector<std::vector<Event>>& events) {
    std::vector<size_t> order(dff.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return dff[a].second.size() > dff[b].second.size(); });
    order.resize(std::min(order.size(), static_cast<size_t>(e.figure_tracks)));
    double spread = 1;
    for (const size_t k : order)
        for (const auto& v : dff[k].second)
            if (v && std::isfinite(*v)) spread = std::max(spread, *v + 0.5);
    namespace plot = spotflow::plot;
    std::vector<plot::Series> series;
    plot::Series marks{"transients", {}, {}, plot::Series::Points};
    for (size_t row = 0; row < order.size(); ++row) {
        const auto& [track, v] = dff[order[row]];
        const int64_t start = traces.at(track).start;
        const double offset = spread * static_cast<double>(row);
        plot::Series s{"track " + std::to_string(track), {}, {}};
        for (size_t k = 0; k < v.size(); ++k)
            if (v[k] && std::isfinite(*v[k])) s.x.push_back(static_cast<double>(start + static_cast<int64_t>(k))), s.y.push_back(*v[k] + offset);
        series.push_back(std::move(s));
        for (const Event& ev : events[order[row]])
            marks.x.push_back(static_cast<double>(start + ev.peak)), marks.y.push_back(ev.amplitude + offset);
    }
    if (!marks.x.empty()) series.push_back(std::move(marks));
    const std::string path = spotflow::output_path(e.host, e.figure);
    plot::Figure fig(1100, 160 + 90 * static_cast<int>(std::max<size_t>(order.size(), 2)), 1, 1);
    fig.lines(0, {"dF/F0 of the " + std::to_string(order.size()) + " longest tracks (stacked), transients marked",
                  "frame", "dF/F0 + offset", std::nullopt, std::nullopt, false},
              series);
    fig.save_png(path);
}

spotflow_status finish(Extractor& e, const spotflow_emitter* out) {
    if (e.baseline.window > 0 && e.window_s > 0) {
        if (!(e.frame_interval_s > 0))
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                              "baseline_window_s is set but the movie has no frame interval; use baseline_window_frames");
        e.baseline.window = std::max(1, static_cast<int>(std::lround(e.window_s / e.frame_interval_s)));
    }
    std::vector<int64_t> frame, id, made_up;
    std::vector<double> x, y;
    // Tracks whose gaps a gap filler filled say so; the traces pass it on,
    // so a value measured at an interpolated position is never silent.
    const bool flagged = e.tracks.has("interpolated");
    if (e.tracks.rows() > 0) {
        try {
            frame = e.tracks.ints("frame");
            id = e.tracks.ints("track_id");
            x = e.tracks.doubles("x");
            y = e.tracks.doubles("y");
            if (flagged) made_up = e.tracks.ints("interpolated");
        } catch (const std::invalid_argument& ex) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("tracks: ") + ex.what());
        }
    }
    // One trace per track over [first, last] frame; points by frame.
    std::map<int64_t, Trace> traces;
    std::map<int64_t, std::vector<size_t>> by_frame;
    for (size_t r = 0; r < frame.size(); ++r) {
        if (frame[r] < 0 || frame[r] >= e.movie.frames())
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "tracks: track " + std::to_string(id[r]) + " has frame " +
                                                                 std::to_string(frame[r]) + " but the movie has " +
                                                                 std::to_string(e.movie.frames()) + " frames");
        by_frame[frame[r]].push_back(r);
    }
    // Points off the calcium movie measure nothing: a movie of another size
    // than the one the tracks came from gave an all-empty traces.csv.
    size_t outside = 0, first_outside = 0;
    const double w = static_cast<double>(e.movie.width()), h = static_cast<double>(e.movie.height());
    for (size_t r = 0; r < frame.size(); ++r)
        if (!(x[r] >= -0.5 && x[r] < w - 0.5 && y[r] >= -0.5 && y[r] < h - 0.5) && !std::isnan(x[r]) && !std::isnan(y[r]))
            if (outside++ == 0) first_outside = r;
    if (outside > 0) {
        const std::string what = std::to_string(outside) + " of " + std::to_string(frame.size()) +
                                 " track points lie outside the " + std::to_string(e.movie.width()) + "x" +
                                 std::to_string(e.movie.height()) + " calcium movie (first: track " +
                                 std::to_string(id[first_outside]) + " at x " + std::to_string(x[first_outside]) +
                                 ", y " + std::to_string(y[first_outside]) + ", frame " +
                                 std::to_string(frame[first_outside]) + ")";
        if (outside * 2 > frame.size())
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "tracks: " + what + "; is it the movie the tracks came from?");
        e.host->log(e.host, SPOTFLOW_LOG_WARNING, ("tracks: " + what + "; their traces are empty there").c_str());
    }
    std::map<int64_t, std::pair<int64_t, int64_t>> span;
    for (size_t r = 0; r < frame.size(); ++r) {
        auto [it, fresh] = span.emplace(id[r], std::make_pair(frame[r], frame[r]));
        if (!fresh) it->second = {std::min(it->second.first, frame[r]), std::max(it->second.second, frame[r])};
    }
    for (const auto& [track, s] : span) {
        Trace& t = traces[track];
        t.start = s.first;
        const size_t n = static_cast<size_t>(s.second - s.first + 1);
        t.f.assign(n, std::nullopt);
        t.x.assign(n, std::nan(""));
        t.y.assign(n, std::nan(""));
        t.interpolated.assign(n, 0);
    }
    int64_t done = 0;
    for (const auto& [f, rows] : by_frame) {
        if (e.host->is_cancelled(e.host)) return SPOTFLOW_ERR_CANCELLED;
        const auto img = e.movie.read(f);
        for (const size_t r : rows) {
            Trace& t = traces[id[r]];
            const size_t k = static_cast<size_t>(f - t.start);
            if (t.f[k]) continue; // a second point of one track in one frame: the first counts
            t.f[k] = measure(img, e.movie.width(), e.movie.height(), x[r], y[r], e.aperture);
            t.x[k] = x[r];
            t.y[k] = y[r];
            if (flagged) t.interpolated[k] = made_up[r] != 0;
        }
        e.host->progress(e.host, ++done, static_cast<int64_t>(by_frame.size()));
    }

    spotflow::TableBuilder tb, eb;
    using spotflow::ColumnType;
    const auto t_id = tb.add_column("track_id", ColumnType::Int64), t_frame = tb.add_column("frame", ColumnType::Int64),
               t_f = tb.add_column("f", ColumnType::Float64), t_f0 = tb.add_column("f0", ColumnType::Float64),
               t_dff = tb.add_column("dff", ColumnType::Float64);
    const size_t t_interp = flagged ? tb.add_column("interpolated", ColumnType::Int64) : 0;
    const auto e_id = eb.add_column("track_id", ColumnType::Int64), e_on = eb.add_column("onset_frame", ColumnType::Int64),
               e_pk = eb.add_column("peak_frame", ColumnType::Int64), e_end = eb.add_column("end_frame", ColumnType::Int64),
               e_amp = eb.add_column("amplitude_dff", ColumnType::Float64),
               e_dur = eb.add_column("duration_frames", ColumnType::Int64), e_x = eb.add_column("x", ColumnType::Float64),
               e_y = eb.add_column("y", ColumnType::Float64);
    int64_t undefined = 0;
    std::vector<std::pair<int64_t, std::vector<std::optional<double>>>> all_dff; // for the figure
    std::vector<std::vector<Event>> all_events;
    for (const auto& [track, t] : traces) {
        const auto f0 = baseline(t.f, e.baseline);
        std::vector<std::optional<double>> dff(t.f.size());
        for (size_t k = 0; k < t.f.size(); ++k) {
            tb.append_int(t_id, track);
            tb.append_int(t_frame, t.start + static_cast<int64_t>(k));
            if (flagged) tb.append_int(t_interp, t.interpolated[k]);
            if (!t.f[k]) {
                tb.append_null(t_f);
                tb.append_null(t_f0);
                tb.append_null(t_dff);
                continue;
            }
            tb.append_double(t_f, *t.f[k]);
            tb.append_double(t_f0, *f0[k]);
            if (*f0[k] > 0) {
                dff[k] = (*t.f[k] - *f0[k]) / *f0[k];
                tb.append_double(t_dff, *dff[k]);
            } else {
                ++undefined; // F0 at or below the local background: the ratio means nothing
                tb.append_null(t_dff);
            }
        }
        const auto found = detect_events(dff, e.events);
        all_dff.emplace_back(track, dff);
        all_events.push_back(found);
        for (const Event& ev : found) {
            eb.append_int(e_id, track);
            eb.append_int(e_on, t.start + ev.onset);
            eb.append_int(e_pk, t.start + ev.peak);
            eb.append_int(e_end, t.start + ev.end);
            eb.append_double(e_amp, ev.amplitude);
            eb.append_int(e_dur, ev.end - ev.onset + 1);
            eb.append_double(e_x, t.x[static_cast<size_t>(ev.onset)]);
            eb.append_double(e_y, t.y[static_cast<size_t>(ev.onset)]);
        }
    }
    if (!e.figure.empty()) draw(e, traces, all_dff, all_events);
    if (undefined > 0) {
        const std::string msg = std::to_string(undefined) + " points have F0 <= 0 (a punctum no brighter than its "
                                                            "annulus); their dff is left empty";
        e.host->log(e.host, SPOTFLOW_LOG_WARNING, msg.c_str());
    }
    spotflow_packet p{};
    p.kind = SPOTFLOW_DATA_TABLE;
    p.info.total_frames = e.movie.frames();
    p.info.frame_interval_s = e.frame_interval_s;
    tb.finish(&p.schema, &p.array);
    if (const auto s = out->emit(out, 0, &p); s != SPOTFLOW_OK) return s;
    spotflow_packet q{};
    q.kind = SPOTFLOW_DATA_TABLE;
    q.info = p.info;
    eb.finish(&q.schema, &q.array);
    return out->emit(out, 1, &q);
}

constexpr char kExtracting[] = "extracting";

const spotflow_port_desc kInputs[] = {
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM, "frame, x, y, track_id"},
    {"movie", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, SPOTFLOW_PORT_WHOLE_STREAM,
     "the channel to measure (the same movie or an aligned calcium channel)"}};
const spotflow_port_desc kOutputs[] = {
    {"traces", SPOTFLOW_TYPE_TRACES, SPOTFLOW_DATA_TABLE, 0, "track_id, frame, f, f0, dff (null where the track is missing)"},
    {"events", SPOTFLOW_TYPE_EVENTS, SPOTFLOW_DATA_TABLE, 0,
     "track_id, onset_frame, peak_frame, end_frame, amplitude_dff, duration_frames, x, y"}};
const spotflow_node_vtable kVtable =
    spotflow::node_vtable<spotflow::FunctionNode<Extractor, make_state, process, finish, kExtracting>>();
const spotflow_plugin_desc kDesc = {"calcium.dff", "1.0.0",
                                    "Aperture photometry along tracks, dF/F0 with a running baseline, and transient detection",
                                    "extractor", kInputs, 2, 2, kOutputs, kSchema, &kVtable, nullptr};

} // namespace
} // namespace calcium_dff

SPOTFLOW_EXPORT_PLUGINS(calcium_dff::kDesc);
