// link.magik: MAGIK's edge classifier as a linker node.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <numeric>
#include <string>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "net.hpp"
#include "nodes.hpp"
#include "post.hpp"
#include "stream.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow/table.hpp"
#include "spotflow_tables/frame_guard.hpp"
#include "link.magik.json.hpp"

namespace magik {
namespace {

constexpr const char* kSchema = spotflow_schemas::link_magik; // link.magik.json

// What the network needs per detection of a window graph, measured on the
// dim movie of issue 13 (406 k edges per window: 0.9 GB above the
// process's base): node states and their projections, and per candidate
// edge its states, messages and gates.
constexpr double kBytesPerNode = 3072, kBytesPerEdge = 2048;
// The window graph's working memory the default guard allows: 512 MB, or a
// quarter of the machine's memory when that is less.
constexpr double kWindowBudget = 512.0 * 1024 * 1024;

int64_t memory_limit_per_frame(int window, int max_gap, int max_candidates) {
    const double phys = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGESIZE));
    // Without a cap a crowded frame's edges grow with its detections;
    // budget as if every detection had 32 candidates per gap.
    const double k = max_candidates > 0 ? max_candidates : 32;
    const double per_detection = window * (kBytesPerNode + k * max_gap * kBytesPerEdge);
    return std::max<int64_t>(1, static_cast<int64_t>(std::min(kWindowBudget, phys / 4) / per_detection));
}

// One input batch waiting for its rows' track ids, emitted whole (every
// column, in input order) when the last one is decided.
struct PendingBatch {
    spotflow::tables::TableAccumulator rows;
    int64_t first_row = 0;
    std::vector<int64_t> track;
    int64_t decided = 0;
};

struct Cancelled {};

struct Linker {
    static constexpr const char* kContext = "link.magik";
    Linker(const spotflow_host* host, const char* params_json);
    spotflow_status process(const spotflow_input& in, const spotflow_packet& p, const spotflow_emitter* out);
    spotflow_status finish(const spotflow_emitter* out);

    const spotflow_host* host;
    std::unique_ptr<Net> net;
    std::string weights_path;
    double threshold, match_radius;
    GraphOptions graph;
    int window;
    int threads;
    int64_t max_per_frame = 0;
    bool derived_limit = false;
    spotflow::tables::FrameGuard guard{1, false}; // the runaway guard (max_per_frame), set up by the constructor
    std::unique_ptr<StreamLinker> stream;
    bool scored = false; // truth connected: edges are kept and scored at finish
    std::vector<std::string> names; // the first batch's columns
    std::deque<PendingBatch> batches;
    int64_t rows = 0, total_frames = -1, first_frame = StreamLinker::kNone;
    std::chrono::steady_clock::time_point started{};
    double seconds = 0; // inside the linker
    // Edges: streamed in batches without truth; kept for scoring with it.
    std::vector<DecidedEdge> edges;
    int64_t edge_count = 0, links = 0;
    spotflow::tables::TableAccumulator truth;
    spotflow::tables::TableAccumulator empty_first; // an empty first batch: its columns, for an empty output
    std::vector<int64_t> all_frame; // with truth only: every detection's frame, x, y for the labels
    std::vector<double> all_x, all_y;
};

Linker::Linker(const spotflow_host* host_, const char* params_json) : host(host_) {
    const auto p = nlohmann::json::parse(params_json);
    threads = std::max(1, host->threads(host));
    Net::set_threads(threads);
    weights_path = p.at("weights").get<std::string>();
    if (weights_path.empty()) weights_path = std::string(host->plugin_dir(host)) + "/link_magik/magik_default.pth";
    const Architecture a{p.at("hidden_dim").get<int>(), p.at("num_layers").get<int>()};
    try {
        net = Net::load(weights_path, &a);
    } catch (const WeightsError& e) {
        throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, e.what());
    }
    threshold = p.at("threshold");
    match_radius = p.at("match_radius_px");
    graph.max_gap = p.at("max_temporal_gap");
    graph.max_distance = p.at("max_spatial_distance");
    graph.max_candidates = p.at("max_candidates");
    window = p.at("window_frames").get<int>();
    if (window == 0) window = net->scales().window_frames;
    if (window <= graph.max_gap)
        throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                                    "param 'window_frames' (" + std::to_string(window) +
                                        ") must exceed max_temporal_gap (" + std::to_string(graph.max_gap) + ")");
    max_per_frame = p.at("max_detections_per_frame").get<int64_t>();
    if (max_per_frame == 0) {
        max_per_frame = memory_limit_per_frame(window, graph.max_gap, graph.max_candidates);
        derived_limit = true;
    }
    guard = spotflow::tables::FrameGuard(max_per_frame, derived_limit);
    const auto& s = net->scales();
    if (s.distance_scale != graph.max_distance || s.gap_scale != graph.max_gap) {
        const std::string m = "weights trained on a graph of " + std::to_string(s.distance_scale) + " px and " +
                              std::to_string(static_cast<int>(s.gap_scale)) + " frames; linking with " +
                              std::to_string(graph.max_distance) + " px and " + std::to_string(graph.max_gap);
        host->log(host, SPOTFLOW_LOG_WARNING, m.c_str());
    }
}

// The stream linker, made when the first batch comes (truth's presence is
// known by then).
void start(Linker& l) {
    if (l.stream) return;
    l.scored = l.host->input_count(l.host, 1) > 0;
    l.started = std::chrono::steady_clock::now();
    StreamOptions o;
    o.graph = l.graph;
    o.window = l.window;
    o.threshold = l.threshold;
    o.max_per_frame = l.max_per_frame;
    Linker* lp = &l;
    auto score = [lp](const std::vector<Graph>& graphs) {
        if (lp->host->is_cancelled(lp->host)) throw Cancelled{};
        Batch b;
        for (const Graph& g : graphs) b.add(g);
        return lp->net->predict(b);
    };
    StreamLinker::Sinks sinks;
    sinks.track = [lp](int64_t row, int64_t track) {
        // Rows are decided in frame order; batches are in row order.
        auto it = std::upper_bound(lp->batches.begin(), lp->batches.end(), row,
                                   [](int64_t r, const PendingBatch& b) { return r < b.first_row; });
        PendingBatch& b = *std::prev(it);
        b.track[static_cast<size_t>(row - b.first_row)] = track;
        ++b.decided;
    };
    sinks.edge = [lp](const DecidedEdge& e) {
        lp->edges.push_back(e);
        ++lp->edge_count;
        lp->links += e.linked;
    };
    l.stream = std::make_unique<StreamLinker>(o, l.net->scales(), score, sinks);
}

spotflow_status emit_edges(Linker& l, const spotflow_emitter* out, const std::vector<float>* label) {
    spotflow::TableBuilder b;
    const auto cs = b.add_column("source", spotflow::ColumnType::Int64);
    const auto ct = b.add_column("target", spotflow::ColumnType::Int64);
    const auto cf = b.add_column("frame", spotflow::ColumnType::Int64);
    const auto cg = b.add_column("gap", spotflow::ColumnType::Int64);
    const auto cp = b.add_column("probability", spotflow::ColumnType::Float64);
    const auto cl = b.add_column("linked", spotflow::ColumnType::Int64);
    const auto cy = b.add_column("label", spotflow::ColumnType::Int64);
    b.reserve(l.edges.size());
    for (size_t e = 0; e < l.edges.size(); ++e) {
        const DecidedEdge& d = l.edges[e];
        b.append_int(cs, d.src);
        b.append_int(ct, d.dst);
        b.append_int(cf, d.frame);
        b.append_int(cg, d.gap);
        b.append_double(cp, d.probability);
        b.append_int(cl, d.linked);
        if (label) b.append_int(cy, (*label)[e] > 0.5f);
        else b.append_null(cy);
    }
    l.edges.clear();
    spotflow_packet ep{};
    ep.kind = SPOTFLOW_DATA_TABLE;
    ep.info.total_frames = -1;
    b.finish(&ep.schema, &ep.array);
    return out->emit(out, 1, &ep);
}

// Emits every input batch whose rows all have their track ids, and (without
// truth) the decided edges once there are enough for a batch.
spotflow_status emit_ready(Linker& l, const spotflow_emitter* out, bool final) {
    while (!l.batches.empty() && l.batches.front().decided == l.batches.front().rows.rows()) {
        PendingBatch& b = l.batches.front();
        spotflow_packet tracks{};
        tracks.kind = SPOTFLOW_DATA_TABLE;
        tracks.info.total_frames = l.total_frames;
        std::vector<int64_t> order(static_cast<size_t>(b.rows.rows()));
        std::iota(order.begin(), order.end(), 0);
        b.rows.build(order, {{"track_id", std::move(b.track)}}, &tracks.schema, &tracks.array);
        l.batches.pop_front();
        if (const auto s = out->emit(out, 0, &tracks); s != SPOTFLOW_OK) return s;
    }
    if (!l.scored && (l.edges.size() >= 65536 || (final && !l.edges.empty())))
        if (const auto s = emit_edges(l, out, nullptr); s != SPOTFLOW_OK) return s;
    if (l.stream && l.first_frame != StreamLinker::kNone && l.total_frames > 0 && l.stream->linked_through() != StreamLinker::kNone)
        l.host->progress(l.host, std::min(l.total_frames, l.stream->linked_through() + 1), l.total_frames);
    return SPOTFLOW_OK;
}

spotflow_status take_detections(Linker& l, const spotflow_packet& p, const spotflow_emitter* out) {
    start(l);
    PendingBatch b;
    try {
        b.rows.append(p.schema, p.array);
    } catch (const std::invalid_argument& e) {
        throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("detections: ") + e.what());
    }
    if (l.names.empty() && !b.rows.names().empty()) l.names = b.rows.names();
    else if (b.rows.names() != l.names && b.rows.rows() > 0)
        throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                                    "detections: a batch has columns that differ from the first batch's");
    const Detections d = read_detections(b.rows, "detections");
    if (p.info.total_frames > 0) l.total_frames = p.info.total_frames;
    // The runaway guard, before anything of this batch is linked.
    l.guard.add(d.frame);
    b.first_row = l.rows;
    b.track.assign(d.size(), -1);
    l.rows += static_cast<int64_t>(d.size());
    if (d.size() > 0) l.batches.push_back(std::move(b));
    else if (l.rows == 0 && l.empty_first.names().empty()) l.empty_first = std::move(b.rows);
    const auto t0 = std::chrono::steady_clock::now();
    int64_t hi = StreamLinker::kNone;
    try {
        for (size_t i = 0; i < d.size(); ++i) {
            if (l.scored) {
                l.all_frame.push_back(d.frame[i]);
                l.all_x.push_back(d.x[i]);
                l.all_y.push_back(d.y[i]);
            }
            l.stream->add(l.batches.back().first_row + static_cast<int64_t>(i), d.frame[i], d.x[i], d.y[i], d.probability[i],
                          d.photons[i]);
            hi = std::max(hi, d.frame[i]);
            if (l.first_frame == StreamLinker::kNone || d.frame[i] < l.first_frame) l.first_frame = d.frame[i];
        }
        // A detector's batch covers frames [offset, offset + count): they
        // are complete; a plain table's rows are complete below its last frame.
        const int64_t complete = p.info.frame_count > 0 ? p.info.frame_offset + p.info.frame_count - 1 : hi - 1;
        if (complete != StreamLinker::kNone - 1) l.stream->complete_through(complete);
    } catch (const StreamError& e) {
        throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, e.what());
    }
    l.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return emit_ready(l, out, false);
}

spotflow_status Linker::process(const spotflow_input& in, const spotflow_packet& p, const spotflow_emitter* out) {
    try {
        if (in.port == 1) {
            try {
                truth.append(p.schema, p.array);
            } catch (const std::invalid_argument& e) {
                throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("truth: ") + e.what());
            }
            return SPOTFLOW_OK;
        }
        return take_detections(*this, p, out);
    } catch (const Cancelled&) {
        return SPOTFLOW_ERR_CANCELLED;
    }
}

spotflow_status Linker::finish(const spotflow_emitter* out) {
    Linker& l = *this;
    try {
        start(l);
        const auto t0 = std::chrono::steady_clock::now();
        l.stream->finish();
        l.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } catch (const Cancelled&) {
        return SPOTFLOW_ERR_CANCELLED;
    } catch (const StreamError& e) {
        throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, e.what());
    }
    if (const auto s = emit_ready(l, out, !l.scored); s != SPOTFLOW_OK) return s;
    if (l.rows == 0) { // no batch at all: an empty table of tracks, as before
        spotflow_packet tracks{};
        tracks.kind = SPOTFLOW_DATA_TABLE;
        tracks.info.total_frames = -1;
        l.empty_first.build({}, {{"track_id", {}}}, &tracks.schema, &tracks.array);
        if (const auto s = out->emit(out, 0, &tracks); s != SPOTFLOW_OK) return s;
    }
    const auto& st = l.stream->stats();
    const std::string note = std::to_string(st.detections) + " detections, " + std::to_string(st.edges) +
                             " candidate edges in " + std::to_string(st.windows) + " windows, " +
                             std::to_string(st.links) + " links, " + std::to_string(l.seconds) + " s; at most " +
                             std::to_string(st.max_frames_held) + " frames and " + std::to_string(st.max_detections_held) +
                             " detections held, largest window " + std::to_string(st.max_window_edges) + " edges";
    l.host->log(l.host, SPOTFLOW_LOG_INFO, note.c_str());
    l.guard.report(l.host, "link.magik");
    if (!l.scored) return SPOTFLOW_OK;

    // With truth: every edge labelled and scored.
    const Truth truth = read_truth(l.truth, "truth");
    Detections d;
    d.frame = std::move(l.all_frame);
    d.x = std::move(l.all_x);
    d.y = std::move(l.all_y);
    std::vector<Edge> list;
    list.reserve(l.edges.size());
    for (const DecidedEdge& e : l.edges) list.push_back({e.src, e.dst});
    const std::vector<float> label = edge_labels(list, match_truth(d, truth.frame, truth.x, truth.y, truth.id, l.match_radius));
    EdgeScores sc;
    for (size_t e = 0; e < l.edges.size(); ++e) sc.add(l.edges[e].probability, label[e], l.threshold);
    const int64_t n_edges = static_cast<int64_t>(l.edges.size());
    if (const auto s = emit_edges(l, out, &label); s != SPOTFLOW_OK) return s;

    spotflow::TableBuilder m;
    const auto mt = m.add_column("threshold", spotflow::ColumnType::Float64);
    const auto me = m.add_column("edges", spotflow::ColumnType::Int64);
    const auto mpos = m.add_column("true_edges", spotflow::ColumnType::Int64);
    const auto mtp = m.add_column("tp", spotflow::ColumnType::Int64);
    const auto mfp = m.add_column("fp", spotflow::ColumnType::Int64);
    const auto mfn = m.add_column("fn", spotflow::ColumnType::Int64);
    const auto mp = m.add_column("precision", spotflow::ColumnType::Float64);
    const auto mr = m.add_column("recall", spotflow::ColumnType::Float64);
    const auto ma = m.add_column("accuracy", spotflow::ColumnType::Float64);
    const auto ms = m.add_column("seconds", spotflow::ColumnType::Float64);
    m.append_double(mt, l.threshold);
    m.append_int(me, n_edges);
    m.append_int(mpos, sc.tp + sc.fn);
    m.append_int(mtp, sc.tp);
    m.append_int(mfp, sc.fp);
    m.append_int(mfn, sc.fn);
    m.append_double(mp, sc.precision());
    m.append_double(mr, sc.recall());
    m.append_double(ma, sc.accuracy());
    m.append_double(ms, l.seconds);
    spotflow_packet mpk{};
    mpk.kind = SPOTFLOW_DATA_TABLE;
    mpk.info.total_frames = -1;
    m.finish(&mpk.schema, &mpk.array);
    return out->emit(out, 2, &mpk);
}

const spotflow_port_desc kInputs[] = {
    {"detections", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE, 0,
     "frame, x, y (probability, photons used when present) and any other columns, in frame order"},
    {"truth", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_OPTIONAL | SPOTFLOW_PORT_WHOLE_STREAM,
     "optional ground truth (frame, x, y, track_id): labels the edges and scores them"}};
const spotflow_port_desc kOutputs[] = {
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, 0, "the detections' columns plus track_id"},
    {"edges", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, 0,
     "candidate edges: source, target (detection rows), frame, gap, probability, linked, label"},
    {"edge_metrics", SPOTFLOW_TYPE_METRICS, SPOTFLOW_DATA_TABLE, 0,
     "with truth: edge precision, recall and accuracy at the threshold"}};
const spotflow_node_vtable kVtable = spotflow::node_vtable<Linker>();

} // namespace

const spotflow_plugin_desc kLinkDesc = {
    "link.magik", "1.0.0",
    "MAGIK (Pineda et al. 2023): a graph neural network scores candidate links, a global assignment per frame pair keeps them one-to-one",
    "linker", kInputs, 2, 3, kOutputs, kSchema, &kVtable, nullptr};

} // namespace magik
