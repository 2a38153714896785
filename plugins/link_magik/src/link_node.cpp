// link.magik: MAGIK's edge classifier as a linker node.
#include <algorithm>
#include <chrono>
#include <numeric>
#include <string>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "net.hpp"
#include "nodes.hpp"
#include "post.hpp"
#include "spotflow/plugin.h"
#include "spotflow/plugin_error.hpp"
#include "spotflow/table.hpp"

namespace magik {
namespace {

constexpr const char* kSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "weights": {"type": "string", "default": "",
      "description": "Weights file written by train.magik; empty: the default weights shipped next to the plugin (link_magik/magik_default.pth)."},
    "threshold": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.3,
      "description": "Edges with a link probability below this are never linked (seed 000: 0.3)."},
    "max_temporal_gap": {"type": "integer", "minimum": 1, "maximum": 16, "default": 2,
      "description": "Graph edges join detections up to this many frames apart (seed 000: 2)."},
    "max_spatial_distance": {"type": "number", "exclusiveMinimum": 0, "default": 30.0,
      "description": "Graph edges join detections at most this many pixels apart (seed 000: 30)."},
    "hidden_dim": {"type": "integer", "minimum": 2, "default": 64,
      "description": "Width of the network's node and edge states; must match the weights (seed 000: 64)."},
    "num_layers": {"type": "integer", "minimum": 0, "default": 3,
      "description": "Message-passing layers; must match the weights (seed 000: 3)."},
    "window_frames": {"type": "integer", "minimum": 0, "default": 0,
      "description": "Frames per graph window (windows overlap by half; memory follows the window); 0: the window the weights were trained on."},
    "match_radius_px": {"type": "number", "exclusiveMinimum": 0, "default": 2.0,
      "description": "With the optional truth input: how close a detection must be to a true position to take its track id when edges are scored."}
  }
})";

struct Linker {
    const spotflow_host* host;
    std::unique_ptr<Net> net;
    std::string weights_path;
    double threshold, match_radius;
    GraphOptions graph;
    int window;
    int threads;
    spotflow::tables::TableAccumulator detections, truth;
};

void* create(const spotflow_host* host, const char* params_json) {
    Linker* l = nullptr;
    spotflow::guarded(host, "create", [&]() -> spotflow_status {
        const auto p = nlohmann::json::parse(params_json);
        auto u = std::make_unique<Linker>();
        u->host = host;
        u->threads = std::max(1, host->threads(host));
        Net::set_threads(u->threads);
        u->weights_path = p.at("weights").get<std::string>();
        if (u->weights_path.empty()) u->weights_path = library_folder() + "/link_magik/magik_default.pth";
        const Architecture a{p.at("hidden_dim").get<int>(), p.at("num_layers").get<int>()};
        try {
            u->net = Net::load(u->weights_path, &a);
        } catch (const WeightsError& e) {
            throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, e.what());
        }
        u->threshold = p.at("threshold");
        u->match_radius = p.at("match_radius_px");
        u->graph.max_gap = p.at("max_temporal_gap");
        u->graph.max_distance = p.at("max_spatial_distance");
        u->window = p.at("window_frames").get<int>();
        if (u->window == 0) u->window = u->net->scales().window_frames;
        if (u->window <= u->graph.max_gap)
            throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                                        "param 'window_frames' (" + std::to_string(u->window) +
                                            ") must exceed max_temporal_gap (" + std::to_string(u->graph.max_gap) + ")");
        const auto& s = u->net->scales();
        if (s.distance_scale != u->graph.max_distance || s.gap_scale != u->graph.max_gap) {
            const std::string m = "weights trained on a graph of " + std::to_string(s.distance_scale) + " px and " +
                                  std::to_string(static_cast<int>(s.gap_scale)) + " frames; linking with " +
                                  std::to_string(u->graph.max_distance) + " px and " + std::to_string(u->graph.max_gap);
            host->log(host, SPOTFLOW_LOG_WARNING, m.c_str());
        }
        l = u.release();
        return SPOTFLOW_OK;
    });
    return l;
}

spotflow_status process(void* self, const spotflow_input* in, const spotflow_packet* p, const spotflow_emitter*) {
    auto& l = *static_cast<Linker*>(self);
    const bool truth = in->port == 1;
    return spotflow::guarded(l.host, "reading " + std::string(truth ? "truth" : "detections"), [&]() -> spotflow_status {
        try {
            (truth ? l.truth : l.detections).append(p->schema, p->array);
        } catch (const std::invalid_argument& e) {
            throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(truth ? "truth: " : "detections: ") + e.what());
        }
        return SPOTFLOW_OK;
    });
}

spotflow_status finish(void* self, const spotflow_emitter* out) {
    auto& l = *static_cast<Linker*>(self);
    return spotflow::guarded(l.host, "linking", [&]() -> spotflow_status {
        const auto t0 = std::chrono::steady_clock::now();
        const Detections d = read_detections(l.detections, "detections");
        const bool scored = l.host->input_count(l.host, 1) > 0;
        const Truth truth = scored ? read_truth(l.truth, "truth") : Truth{};

        const auto edges = candidate_edges(d, l.graph);
        std::vector<float> prob;
        const int64_t windows = score_edges(*l.net, d, edges, l.window, l.graph.max_gap, l.host, prob);
        if (windows < 0) return SPOTFLOW_ERR_CANCELLED;
        const Links links = link_edges(d.frame, edges, prob, l.threshold, l.threads);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const std::string note = std::to_string(d.size()) + " detections, " + std::to_string(edges.size()) +
                                 " candidate edges in " + std::to_string(windows) + " windows, " +
                                 std::to_string(links.links) + " links, " + std::to_string(secs) + " s";
        l.host->log(l.host, SPOTFLOW_LOG_INFO, note.c_str());

        // Tracks: every input row and column, plus track_id.
        spotflow_packet tracks{};
        tracks.kind = SPOTFLOW_DATA_TABLE;
        tracks.info.total_frames = -1;
        std::vector<int64_t> order(d.size());
        std::iota(order.begin(), order.end(), 0);
        l.detections.build(order, {{"track_id", links.track}}, &tracks.schema, &tracks.array);
        if (const auto s = out->emit(out, 0, &tracks); s != SPOTFLOW_OK) return s;

        // Edges, for inspection and for the benchmark's edge scores.
        std::vector<float> label;
        if (scored)
            label = edge_labels(edges, match_truth(d, truth.frame, truth.x, truth.y, truth.id, l.match_radius));
        spotflow::TableBuilder b;
        const auto cs = b.add_column("source", spotflow::ColumnType::Int64);
        const auto ct = b.add_column("target", spotflow::ColumnType::Int64);
        const auto cf = b.add_column("frame", spotflow::ColumnType::Int64);
        const auto cg = b.add_column("gap", spotflow::ColumnType::Int64);
        const auto cp = b.add_column("probability", spotflow::ColumnType::Float64);
        const auto cl = b.add_column("linked", spotflow::ColumnType::Int64);
        const auto cy = b.add_column("label", spotflow::ColumnType::Int64);
        b.reserve(edges.size());
        EdgeScores sc;
        for (size_t e = 0; e < edges.size(); ++e) {
            const auto s = static_cast<size_t>(edges[e].src), t = static_cast<size_t>(edges[e].dst);
            b.append_int(cs, edges[e].src);
            b.append_int(ct, edges[e].dst);
            b.append_int(cf, d.frame[s]);
            b.append_int(cg, d.frame[t] - d.frame[s]);
            b.append_double(cp, prob[e]);
            b.append_int(cl, links.next[s] == edges[e].dst);
            if (scored) {
                b.append_int(cy, label[e] > 0.5f);
                sc.add(prob[e], label[e], l.threshold);
            } else {
                b.append_null(cy);
            }
        }
        spotflow_packet ep{};
        ep.kind = SPOTFLOW_DATA_TABLE;
        ep.info.total_frames = -1;
        b.finish(&ep.schema, &ep.array);
        if (const auto s = out->emit(out, 1, &ep); s != SPOTFLOW_OK) return s;

        if (scored) {
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
            m.append_int(me, static_cast<int64_t>(edges.size()));
            m.append_int(mpos, sc.tp + sc.fn);
            m.append_int(mtp, sc.tp);
            m.append_int(mfp, sc.fp);
            m.append_int(mfn, sc.fn);
            m.append_double(mp, sc.precision());
            m.append_double(mr, sc.recall());
            m.append_double(ma, sc.accuracy());
            m.append_double(ms, secs);
            spotflow_packet mpk{};
            mpk.kind = SPOTFLOW_DATA_TABLE;
            mpk.info.total_frames = -1;
            m.finish(&mpk.schema, &mpk.array);
            if (const auto s = out->emit(out, 2, &mpk); s != SPOTFLOW_OK) return s;
        }
        return SPOTFLOW_OK;
    });
}

void destroy(void* self) { delete static_cast<Linker*>(self); }

const spotflow_port_desc kInputs[] = {
    {"detections", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM,
     "frame, x, y (probability, photons used when present) and any other columns"},
    {"truth", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_OPTIONAL | SPOTFLOW_PORT_WHOLE_STREAM,
     "optional ground truth (frame, x, y, track_id): labels the edges and scores them"}};
const spotflow_port_desc kOutputs[] = {
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, 0, "the detections' columns plus track_id"},
    {"edges", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, 0,
     "candidate edges: source, target (detection rows), frame, gap, probability, linked, label"},
    {"edge_metrics", SPOTFLOW_TYPE_METRICS, SPOTFLOW_DATA_TABLE, 0,
     "with truth: edge precision, recall and accuracy at the threshold"}};
const spotflow_node_vtable kVtable = {create, nullptr, process, finish, destroy};

} // namespace

const spotflow_plugin_desc kLinkDesc = {
    "link.magik", "1.0.0",
    "MAGIK (Pineda et al. 2023): a graph neural network scores candidate links, a global assignment per frame pair keeps them one-to-one",
    "linker", kInputs, 2, 3, kOutputs, kSchema, &kVtable, nullptr};

} // namespace magik
