// train.magik: trains link.magik's network on detections labelled by the
// simulator's ground truth, with the loss plugin loss.bce through the loss
// ABI.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "net.hpp"
#include "nodes.hpp"
#include "spotflow/plugin.h"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow/table.hpp"
#include "spotflow_tables/grid.hpp"
#include "train.magik.json.hpp"

namespace magik {
namespace {

constexpr const char* kSchema = spotflow_schemas::train_magik; // train.magik.json

struct Stream {
    Detections d;
    std::vector<Edge> edges;
    std::vector<float> label;
    std::vector<uint8_t> keep; // loss mask: 0 for edges touching a detection of uncertain identity
    std::unique_ptr<EdgeIndex> index;
    double median = 0;
    int64_t positives = 0, unmatched = 0;
};

struct Sample {
    size_t stream;
    int64_t start;
};

struct Trainer {
    static constexpr const char* kContext = "train.magik";
    Trainer(const spotflow_host* host, const char* params_json);
    Trainer(const Trainer&) = delete; // owns the loss instance
    Trainer& operator=(const Trainer&) = delete;
    spotflow_status process(const spotflow_input& in, const spotflow_packet& p, const spotflow_emitter* out);
    spotflow_status finish(const spotflow_emitter* out);

    const spotflow_host* host;
    nlohmann::json params;
    Architecture arch;
    FeatureScales scales;
    GraphOptions graph;
    uint64_t seed;
    spotflow_loss_instance loss{};
    std::string best_path, final_path, metrics_path, card_path;
    std::vector<spotflow::tables::TableAccumulator> detections, truth;
    ~Trainer() {
        if (loss.loss) loss.loss->destroy(loss.self);
    }
};

Trainer::Trainer(const spotflow_host* host_, const char* params_json) : host(host_) {
    const auto p = params = nlohmann::json::parse(params_json);
    arch = {p.at("hidden_dim").get<int>(), p.at("num_layers").get<int>()};
    graph.max_gap = p.at("max_temporal_gap");
    graph.max_distance = p.at("max_spatial_distance");
    scales.position_scale = p.at("position_scale");
    scales.distance_scale = graph.max_distance;
    scales.gap_scale = graph.max_gap;
    scales.window_frames = p.at("window_frames");
    if (scales.window_frames <= graph.max_gap)
        throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'window_frames' must exceed max_temporal_gap");
    const int64_t s = p.at("seed");
    seed = s >= 0 ? static_cast<uint64_t>(s) : host->seed(host);
    const int32_t nd = host->input_count(host, 0), nt = host->input_count(host, 1);
    if (nd != nt)
        throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                                    "train.magik needs one truth edge per detections edge, in the same order; got " +
                                        std::to_string(nd) + " detections and " + std::to_string(nt) + " truth edges");
    detections.resize(static_cast<size_t>(std::max(nd, 1)));
    truth.resize(static_cast<size_t>(std::max(nt, 1)));
    if (!host->create_loss)
        throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "this host offers no loss plugins (create_loss)");
    const nlohmann::json lp = {{"pos_weight", p.at("pos_weight")}, {"reduction", "mean"}};
    const std::string loss_id = p.at("loss");
    if (const auto st = host->create_loss(host, loss_id.c_str(), lp.dump().c_str(), &loss); st != SPOTFLOW_OK) {
        loss = {};
        throw spotflow::AlreadyReported{st}; // the host has reported why
    }
    Net::set_threads(host->threads(host));
    best_path = spotflow::output_path(host, p.at("best_model"));
    final_path = spotflow::output_path(host, p.at("final_model"));
    metrics_path = spotflow::output_path(host, p.at("metrics_file"));
    card_path = spotflow::output_path(host, p.at("model_card"));
}

spotflow_status Trainer::process(const spotflow_input& in, const spotflow_packet& p, const spotflow_emitter*) {
    const bool is_truth = in.port == 1;
    auto& v = is_truth ? truth : detections;
    const size_t k = static_cast<size_t>(in.edge);
    if (k >= v.size()) v.resize(k + 1);
    try {
        v[k].append(p.schema, p.array);
    } catch (const std::invalid_argument& e) {
        throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(is_truth ? "truth" : "detections") + " edge " +
                                                                       std::to_string(k) + ": " + e.what());
    }
    return SPOTFLOW_OK;
}

// The loss plugin on one flat batch, through the loss ABI (DLPack tensors
// that borrow the caller's buffers).
double call_loss(const Trainer& t, const float* z, const float* y, const uint8_t* mask, int64_t n, float* grad) {
    int64_t shape[1] = {n};
    const DLDevice cpu{kDLCPU, 0};
    const DLDataType f32{kDLFloat, 32, 1}, u8{kDLUInt, 8, 1};
    const DLTensor tz{const_cast<float*>(z), cpu, 1, f32, shape, nullptr, 0};
    const DLTensor ty{const_cast<float*>(y), cpu, 1, f32, shape, nullptr, 0};
    const DLTensor tm{const_cast<uint8_t*>(mask), cpu, 1, u8, shape, nullptr, 0};
    DLTensor tg{grad, cpu, 1, f32, shape, nullptr, 0};
    const DLTensor* preds[] = {&tz};
    const DLTensor* targets[] = {&ty};
    DLTensor* grads[] = {&tg};
    const spotflow_loss_io io{preds, targets, 1, 1, mask ? &tm : nullptr, grad ? grads : nullptr};
    double value = 0;
    if (const auto s = t.loss.loss->compute(t.loss.self, &io, &value); s != SPOTFLOW_OK)
        throw spotflow::PluginError(s, "loss " + t.params.at("loss").get<std::string>() + " failed on a batch of " +
                                           std::to_string(n) + " edges");
    return value;
}

Stream prepare(const Trainer& t, size_t k) {
    Stream s;
    const std::string what = "edge " + std::to_string(k);
    s.d = read_detections(t.detections[k], "detections " + what);
    const Truth truth = read_truth(t.truth[k], "truth " + what);
    const double r = t.params.at("match_radius_px");
    const auto id = match_truth(s.d, truth.frame, truth.x, truth.y, truth.id, r);
    // A detection left unmatched but with a true position within 2 r is
    // either a poor localisation or a false positive next to a punctum: its
    // label is uncertain, so its edges are masked out of the loss.
    std::vector<bool> uncertain(s.d.size(), false);
    std::map<int64_t, std::vector<int64_t>> truth_rows;
    for (size_t i = 0; i < truth.frame.size(); ++i) truth_rows[truth.frame[i]].push_back(static_cast<int64_t>(i));
    std::map<int64_t, spotflow::tables::PointGrid> grids;
    for (const auto& [f, rows] : truth_rows) grids.emplace(f, spotflow::tables::PointGrid(truth.x, truth.y, rows, 2 * r));
    for (size_t i = 0; i < s.d.size(); ++i) {
        if (id[i] >= 0) continue;
        ++s.unmatched;
        const auto it = grids.find(s.d.frame[i]);
        if (it != grids.end()) it->second.within(s.d.x[i], s.d.y[i], 2 * r, [&](int64_t, double) { uncertain[i] = true; });
    }
    s.edges = candidate_edges(s.d, t.graph);
    s.label = edge_labels(s.edges, id);
    s.keep.resize(s.edges.size());
    for (size_t e = 0; e < s.edges.size(); ++e) {
        s.keep[e] = !uncertain[static_cast<size_t>(s.edges[e].src)] && !uncertain[static_cast<size_t>(s.edges[e].dst)];
        s.positives += s.label[e] > 0.5f;
    }
    s.index = std::make_unique<EdgeIndex>(s.d, s.edges);
    s.median = median_photons(s.d);
    return s;
}

// A weights file the trainer cannot write is an I/O failure naming it.
void save(const Net& net, const std::string& path, const std::string& name, const nlohmann::json& extra) {
    try {
        net.save(path, extra.dump());
    } catch (const WeightsError&) {
        throw spotflow::PluginError(SPOTFLOW_ERR_IO, "cannot write weights file " + name);
    }
}

struct Scores {
    double loss = 0;
    EdgeScores edges;
};

spotflow_status Trainer::finish(const spotflow_emitter* out) {
    Trainer& t = *this;
    const auto& p = t.params;
    const auto t_start = std::chrono::steady_clock::now();
    const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count(); };
    const int W = t.scales.window_frames;

    std::vector<Stream> streams;
    std::vector<Sample> samples;
    nlohmann::json data = nlohmann::json::array();
    for (size_t k = 0; k < t.detections.size(); ++k) {
        streams.push_back(prepare(t, k));
        const Stream& s = streams.back();
        // Non-overlapping windows, so no edge is in both the training
        // and the validation set.
        int64_t n = 0;
        for (int64_t w = s.index->t0; w < s.index->t0 + s.index->frames(); w += W) {
            const int64_t lo = w - s.index->t0, hi = std::min<int64_t>(lo + W, s.index->frames());
            if (s.index->first[static_cast<size_t>(hi)] > s.index->first[static_cast<size_t>(lo)]) samples.push_back({k, w}), ++n;
        }
        data.push_back({{"source", t.host->input_source(t.host, 0, static_cast<int32_t>(k)) ? t.host->input_source(t.host, 0, static_cast<int32_t>(k)) : ""},
                        {"frames", s.index->frames()}, {"detections", s.d.size()}, {"unmatched_detections", s.unmatched},
                        {"edges", s.edges.size()}, {"true_edges", s.positives}, {"windows", n}});
    }
    std::mt19937_64 rng(t.seed);
    std::shuffle(samples.begin(), samples.end(), rng);
    const size_t n_train = static_cast<size_t>(std::llround(p.at("train_split").get<double>() * static_cast<double>(samples.size())));
    if (n_train < 1 || n_train >= samples.size())
        throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                                    "too little data: " + std::to_string(samples.size()) + " windows of " + std::to_string(W) +
                                        " frames with edges cannot be split " + p.at("train_split").dump() + " / rest");
    std::vector<Sample> train(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(n_train));
    std::vector<Sample> val(samples.begin() + static_cast<std::ptrdiff_t>(n_train), samples.end());

    const auto graph_of = [&](const Sample& sm, const Transform& tf) {
        const Stream& s = streams[sm.stream];
        return window_graph(s.d, s.edges, *s.index, sm.start, W, t.scales, s.median, tf);
    };
    const auto gather = [&](const Sample& sm, const Graph& g, std::vector<float>& y, std::vector<uint8_t>& m) {
        for (const int64_t e : g.edge_ids) {
            y.push_back(streams[sm.stream].label[static_cast<size_t>(e)]);
            m.push_back(streams[sm.stream].keep[static_cast<size_t>(e)]);
        }
    };

    // Validation set: fixed, unaugmented, in batches like training.
    struct Held {
        Batch b;
        std::vector<float> y;
        std::vector<uint8_t> m;
    };
    std::vector<Held> held;
    for (size_t i = 0; i < val.size(); ++i) {
        if (i % static_cast<size_t>(p.at("batch_size").get<int>()) == 0) held.emplace_back();
        const Graph g = graph_of(val[i], {});
        held.back().b.add(g);
        gather(val[i], g, held.back().y, held.back().m);
    }
    Net net(t.arch, t.scales, t.seed);
    net.set_optimizer(p.at("learning_rate"), p.at("weight_decay"));
    const double threshold = p.at("threshold");
    const auto validate = [&] {
        Scores sc;
        int64_t counted = 0;
        for (const Held& h : held) {
            const auto prob = net.predict(h.b);
            std::vector<float> z(prob.size());
            for (size_t e = 0; e < prob.size(); ++e) {
                const double q = std::clamp(static_cast<double>(prob[e]), 1e-7, 1 - 1e-7);
                z[e] = static_cast<float>(std::log(q / (1 - q)));
                if (h.m[e]) sc.edges.add(prob[e], h.y[e], threshold);
            }
            int64_t kept = 0;
            for (const uint8_t v : h.m) kept += v;
            // The loss is a mean over kept edges: weight batches by them.
            sc.loss += call_loss(t, z.data(), h.y.data(), h.m.data(), static_cast<int64_t>(z.size()), nullptr) *
                       static_cast<double>(kept);
            counted += kept;
        }
        sc.loss = counted ? sc.loss / static_cast<double>(counted) : 0;
        return sc;
    };

    const std::string start_note = "train.magik: " + std::to_string(train.size()) + " training and " +
                                   std::to_string(val.size()) + " validation windows of " + std::to_string(W) +
                                   " frames; " + std::to_string(net.parameter_count()) + " parameters";
    t.host->log(t.host, SPOTFLOW_LOG_INFO, start_note.c_str());

    std::ofstream metrics(t.metrics_path, std::ios::trunc);
    if (!metrics) throw spotflow::PluginError(SPOTFLOW_ERR_IO, "cannot write " + p.at("metrics_file").get<std::string>());
    const int epochs = p.at("num_epochs");
    const size_t bs = static_cast<size_t>(p.at("batch_size").get<int>());
    // Progress per optimiser step (an epoch can take minutes).
    const int64_t steps_per_epoch = static_cast<int64_t>((train.size() + bs - 1) / bs);
    const bool augment = p.at("augment");
    const double max_s = 60 * p.at("max_minutes").get<double>();
    std::uniform_real_distribution<double> angle(0, 2 * M_PI);
    std::bernoulli_distribution coin(0.5);

    spotflow::TableBuilder rows;
    const auto c_epoch = rows.add_column("epoch", spotflow::ColumnType::Int64);
    const auto c_train = rows.add_column("train_loss", spotflow::ColumnType::Float64);
    const auto c_val = rows.add_column("val_loss", spotflow::ColumnType::Float64);
    const auto c_acc = rows.add_column("accuracy", spotflow::ColumnType::Float64);
    const auto c_prec = rows.add_column("precision", spotflow::ColumnType::Float64);
    const auto c_rec = rows.add_column("recall", spotflow::ColumnType::Float64);
    const auto c_sec = rows.add_column("seconds", spotflow::ColumnType::Float64);
    nlohmann::json best = nullptr, last = nullptr;
    double best_loss = INFINITY;
    int epoch = 0;
    bool stopped_early = false;
    for (; epoch < epochs; ++epoch) {
        std::shuffle(train.begin(), train.end(), rng);
        double sum = 0;
        int64_t steps = 0;
        for (size_t i = 0; i < train.size(); i += bs) {
            if (t.host->is_cancelled(t.host)) return SPOTFLOW_ERR_CANCELLED;
            Batch b;
            std::vector<float> y;
            std::vector<uint8_t> m;
            for (size_t j = i; j < std::min(train.size(), i + bs); ++j) {
                Transform tf;
                if (augment) tf.angle = angle(rng), tf.flip = coin(rng);
                const Graph g = graph_of(train[j], tf);
                b.add(g);
                gather(train[j], g, y, m);
            }
            sum += net.train_step(b, y, [&](const float* z, const float* lab, int64_t n, float* grad) {
                return call_loss(t, z, lab, m.data(), n, grad);
            });
            ++steps;
            t.host->progress(t.host, epoch * steps_per_epoch + steps, epochs * steps_per_epoch);
        }
        const Scores sc = validate();
        const double secs = elapsed();
        last = {{"epoch", epoch}, {"train_loss", steps ? sum / static_cast<double>(steps) : 0.0},
                {"val_loss", sc.loss}, {"accuracy", sc.edges.accuracy()}, {"precision", sc.edges.precision()},
                {"recall", sc.edges.recall()}, {"f1", sc.edges.f1()}, {"threshold", threshold}, {"seconds", secs}};
        metrics << last.dump() << '\n' << std::flush;
        rows.append_int(c_epoch, epoch);
        rows.append_double(c_train, last["train_loss"]);
        rows.append_double(c_val, sc.loss);
        rows.append_double(c_acc, sc.edges.accuracy());
        rows.append_double(c_prec, sc.edges.precision());
        rows.append_double(c_rec, sc.edges.recall());
        rows.append_double(c_sec, secs);
        const std::string note = "epoch " + std::to_string(epoch) + ": train loss " + last["train_loss"].dump() +
                                 ", val loss " + std::to_string(sc.loss) + ", acc " + std::to_string(sc.edges.accuracy()) +
                                 ", prec " + std::to_string(sc.edges.precision()) + ", rec " +
                                 std::to_string(sc.edges.recall()) + " (" + std::to_string(secs) + " s)";
        t.host->log(t.host, SPOTFLOW_LOG_INFO, note.c_str());
        t.host->progress(t.host, (epoch + 1) * steps_per_epoch, epochs * steps_per_epoch);
        if (sc.loss < best_loss) {
            best_loss = sc.loss;
            best = last;
            save(net, t.best_path, p.at("best_model"), {{"training", {{"seed", t.seed}, {"validation", best}}}});
        }
        if (max_s > 0 && secs >= max_s && epoch + 1 < epochs) {
            stopped_early = true;
            ++epoch;
            break;
        }
    }
    if (!metrics.flush()) throw spotflow::PluginError(SPOTFLOW_ERR_IO, "cannot write " + p.at("metrics_file").get<std::string>());
    save(net, t.final_path, p.at("final_model"), {{"training", {{"seed", t.seed}, {"validation", last}}}});

    nlohmann::json card = {
        {"model", "link.magik"},
        {"description", "MAGIK-style graph neural network (Pineda et al., Nat. Mach. Intell. 5, 71-82, 2023) classifying "
                        "candidate links between detections; trained by train.magik."},
        {"files", {{"best", p.at("best_model")}, {"final", p.at("final_model")}, {"metrics", p.at("metrics_file")}}},
        {"format", "spotflow-magik v1: 8-byte magic SFMAGIK1, uint64 header length, JSON header, float32 tensors in header order, SFMAGEND"},
        {"architecture", {{"hidden_dim", t.arch.hidden}, {"num_layers", t.arch.layers}, {"node_features", {"frame", "x", "y", "probability", "photons"}},
                          {"edge_features", {"dx", "dy", "distance", "gap"}}, {"parameters", net.parameter_count()}}},
        {"scales", {{"position_scale", t.scales.position_scale}, {"distance_scale", t.scales.distance_scale},
                    {"gap_scale", t.scales.gap_scale}, {"window_frames", W}}},
        {"params", p},
        {"seed", t.seed},
        {"threads", t.host->threads(t.host)},
        {"data", {{"streams", data}, {"train_windows", train.size()}, {"validation_windows", val.size()}}},
        {"epochs_run", epoch},
        {"stopped_by_time_limit", stopped_early},
        {"best", best},
        {"final", last},
        {"training_time_s", elapsed()},
        {"recipe", p.at("recipe")},
        {"remake", "spotflow run " + p.at("recipe").get<std::string>() + " --out DIR"}};
    std::ofstream card_file(t.card_path, std::ios::trunc);
    if (!(card_file << card.dump(2) << '\n') || !card_file.flush())
        throw spotflow::PluginError(SPOTFLOW_ERR_IO, "cannot write " + p.at("model_card").get<std::string>());

    spotflow_packet mp{};
    mp.kind = SPOTFLOW_DATA_TABLE;
    mp.info.total_frames = -1;
    rows.finish(&mp.schema, &mp.array);
    return out->emit(out, 0, &mp);
}

const spotflow_port_desc kInputs[] = {
    {"detections", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_MULTIPLE | SPOTFLOW_PORT_WHOLE_STREAM,
     "detections of one movie per edge: frame, x, y (probability, photons)"},
    {"truth", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_MULTIPLE | SPOTFLOW_PORT_WHOLE_STREAM,
     "the same movies' ground truth, edge for edge: frame, x, y, track_id"}};
const spotflow_port_desc kOutputs[] = {
    {"metrics", SPOTFLOW_TYPE_METRICS, SPOTFLOW_DATA_TABLE, 0, "one row per epoch: losses and validation scores"}};
const spotflow_node_vtable kVtable = spotflow::node_vtable<Trainer>();

} // namespace

const spotflow_plugin_desc kTrainDesc = {
    "train.magik", "1.0.0", "Trains link.magik's graph network on simulated movies' detections labelled by their ground truth",
    "trainer", kInputs, 2, 1, kOutputs, kSchema, &kVtable, nullptr};

} // namespace magik
