// link.magik and train.magik through the ABI: a short training run whose
// loss falls (and repeats bit for bit), the linker on its weights, bad
// weights files, and the shipped weights on a small simulated clip through
// the CLI.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "plugin_harness.hpp"

namespace fs = std::filesystem;
using namespace spotflow::testing;
using nlohmann::json;

namespace {

// The fake host plus the loss service the trainer needs (loss.bce opened
// with dlopen, as the real host would).
spotflow_status create_loss(const spotflow_host* h, const char* id, const char* params, spotflow_loss_instance* out) {
    static PluginLibrary lib(LOSS_PATH);
    const auto& d = lib.plugin(id);
    void* self = d.loss->create(h, params);
    if (!self) return SPOTFLOW_ERR_INVALID_ARGUMENT;
    *out = {d.loss, self};
    return SPOTFLOW_OK;
}

struct Host {
    FakeHost fake;
    spotflow_host table;
    explicit Host(const fs::path& out) : fake(out), table(*fake.get()) {
        table.create_loss = create_loss;
        fake.plugin_dir = fs::path(PLUGIN_PATH).parent_path().string(); // where the shipped weights sit
    }
};

// One node instance run by hand (the harness's NodeRunner uses the plain
// fake host).
struct Node {
    const spotflow_plugin_desc& desc;
    Host& host;
    void* self;
    std::vector<std::unique_ptr<OwnedPacket>> emitted;
    Node(const spotflow_plugin_desc& d, Host& h, const json& params)
        : desc(d), host(h), self(d.node->create(&h.table, params.dump().c_str())) {}
    ~Node() {
        if (self) desc.node->destroy(self);
    }
    static spotflow_status emit(const spotflow_emitter* e, int32_t port, spotflow_packet* p) {
        auto* n = static_cast<Node*>(e->host_data);
        auto o = std::make_unique<OwnedPacket>();
        o->port = port;
        o->p = *p;
        n->emitted.push_back(std::move(o));
        return SPOTFLOW_OK;
    }
    spotflow_status process(int32_t port, const spotflow_packet& p) {
        const spotflow_emitter out{this, emit};
        const spotflow_input in{port, 0, "test.input"};
        return desc.node->process(self, &in, &p, &out);
    }
    spotflow_status finish() {
        const spotflow_emitter out{this, emit};
        return desc.node->finish(self, &out);
    }
    const OwnedPacket* port(int32_t k) const {
        for (const auto& p : emitted)
            if (p->port == k) return p.get();
        return nullptr;
    }
};

// Random walks (truth) and their detections (localisation noise, a few
// misses and false positives): a toy version of the simulator's movies.
struct Movie {
    std::unique_ptr<OwnedPacket> detections, truth;
};

Movie random_walks(int particles, int frames, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> place(10, 118), u(0, 1);
    std::normal_distribution<double> step(0, 1.0), noise(0, 0.1);
    spotflow::TableBuilder d, t;
    const auto df = d.add_column("frame", spotflow::ColumnType::Int64), dx = d.add_column("x", spotflow::ColumnType::Float64),
               dy = d.add_column("y", spotflow::ColumnType::Float64), dp = d.add_column("probability", spotflow::ColumnType::Float64),
               dn = d.add_column("photons", spotflow::ColumnType::Float64);
    const auto tf = t.add_column("frame", spotflow::ColumnType::Int64), tx = t.add_column("x", spotflow::ColumnType::Float64),
               ty = t.add_column("y", spotflow::ColumnType::Float64), ti = t.add_column("track_id", spotflow::ColumnType::Int64);
    std::vector<double> x(static_cast<size_t>(particles)), y(x.size());
    for (auto& v : x) v = place(rng);
    for (auto& v : y) v = place(rng);
    for (int f = 0; f < frames; ++f) {
        for (int i = 0; i < particles; ++i) {
            auto& px = x[static_cast<size_t>(i)];
            auto& py = y[static_cast<size_t>(i)];
            px = std::clamp(px + step(rng), 0.0, 127.0);
            py = std::clamp(py + step(rng), 0.0, 127.0);
            t.append_int(tf, f), t.append_double(tx, px), t.append_double(ty, py), t.append_int(ti, i);
            if (u(rng) < 0.03) continue; // missed
            d.append_int(df, f), d.append_double(dx, px + noise(rng)), d.append_double(dy, py + noise(rng));
            d.append_double(dp, 0.9), d.append_double(dn, 1000 + 100 * i);
        }
        if (u(rng) < 0.3) // a false positive
            d.append_int(df, f), d.append_double(dx, place(rng)), d.append_double(dy, place(rng)), d.append_double(dp, 0.55),
                d.append_double(dn, 300);
    }
    Movie m{std::make_unique<OwnedPacket>(), std::make_unique<OwnedPacket>()};
    m.detections->p.kind = m.truth->p.kind = SPOTFLOW_DATA_TABLE;
    d.finish(&m.detections->p.schema, &m.detections->p.array);
    t.finish(&m.truth->p.schema, &m.truth->p.array);
    return m;
}

json train_params(const fs::path& dir, int epochs, int hidden, int layers) {
    return {{"hidden_dim", hidden},     {"num_layers", layers},    {"pos_weight", 2.0},      {"loss", "loss.bce"},
            {"learning_rate", 0.005},   {"weight_decay", 1e-5},    {"batch_size", 4},        {"num_epochs", epochs},
            {"max_minutes", 0},         {"train_split", 0.8},      {"seed", 5},              {"max_temporal_gap", 2},
            {"max_spatial_distance", 30.0}, {"window_frames", 8},  {"position_scale", 128},  {"augment", true},
            {"match_radius_px", 2.0},   {"threshold", 0.3},        {"best_model", "best_model.pth"},
            {"final_model", "final_model.pth"}, {"metrics_file", "metrics.jsonl"}, {"model_card", "model_card.json"},
            {"recipe", "test"}};
    (void)dir;
}

json link_params(const std::string& weights, int hidden, int layers) {
    return {{"weights", weights}, {"threshold", 0.3}, {"max_temporal_gap", 2}, {"max_spatial_distance", 30.0},
            {"hidden_dim", hidden}, {"num_layers", layers}, {"window_frames", 0}, {"match_radius_px", 2.0},
            {"max_candidates", 8}, {"max_detections_per_frame", 0}};
}

std::vector<json> read_jsonl(const fs::path& p) {
    std::vector<json> v;
    std::ifstream in(p);
    for (std::string line; std::getline(in, line);) v.push_back(json::parse(line));
    return v;
}

class Magik : public ::testing::Test {
protected:
    static fs::path dir() {
        static const fs::path d = fs::temp_directory_path() / ("link_magik_test_" + std::to_string(::getpid()));
        fs::create_directories(d);
        return d;
    }
    // Trains a small network once for the whole suite: 12 epochs on 40
    // random walks over 160 frames.
    static fs::path trained() {
        static const fs::path out = [] {
            const fs::path o = dir() / "train";
            fs::create_directories(o);
            train(o);
            return o;
        }();
        return out;
    }
    static void train(const fs::path& out) {
        PluginLibrary lib(PLUGIN_PATH);
        Host host(out);
        Node n(lib.plugin("train.magik"), host, train_params(out, 12, 16, 2));
        ASSERT_NE(n.self, nullptr) << host.fake.error;
        const Movie m = random_walks(40, 160, 1);
        ASSERT_EQ(n.process(0, m.detections->p), SPOTFLOW_OK) << host.fake.error;
        ASSERT_EQ(n.process(1, m.truth->p), SPOTFLOW_OK) << host.fake.error;
        ASSERT_EQ(n.finish(), SPOTFLOW_OK) << host.fake.error;
    }
    PluginLibrary lib{PLUGIN_PATH};
};

TEST_F(Magik, Descriptors) {
    const auto& l = lib.plugin("link.magik");
    EXPECT_STREQ(l.kind, "linker");
    EXPECT_STREQ(l.inputs[0].name, "detections");
    EXPECT_STREQ(l.outputs[0].name, "tracks");
    const auto& t = lib.plugin("train.magik");
    EXPECT_STREQ(t.kind, "trainer");
    const auto schema = json::parse(t.params_schema);
    EXPECT_EQ(schema["properties"]["pos_weight"]["default"], 2.0);
    EXPECT_EQ(schema["properties"]["hidden_dim"]["default"], 64);
    EXPECT_EQ(schema["properties"]["num_layers"]["default"], 3);
    EXPECT_EQ(schema["properties"]["batch_size"]["default"], 4);
    EXPECT_EQ(schema["properties"]["num_epochs"]["default"], 30);
    EXPECT_EQ(json::parse(l.params_schema)["properties"]["threshold"]["default"], 0.3);
}

TEST_F(Magik, ShortTrainingLossFallsAndRepeats) {
    const auto m = read_jsonl(trained() / "metrics.jsonl");
    ASSERT_EQ(m.size(), 12u);
    EXPECT_LT(m.back()["train_loss"].get<double>(), 0.6 * m.front()["train_loss"].get<double>());
    EXPECT_LT(m.back()["val_loss"].get<double>(), m.front()["val_loss"].get<double>());
    EXPECT_GT(m.back()["recall"].get<double>(), 0.9);
    for (const char* f : {"best_model.pth", "final_model.pth", "model_card.json"}) EXPECT_TRUE(fs::exists(trained() / f)) << f;
    const auto card = json::parse(std::ifstream(trained() / "model_card.json"));
    EXPECT_EQ(card["epochs_run"], 12);
    EXPECT_EQ(card["architecture"]["hidden_dim"], 16);
    EXPECT_TRUE(card["best"].contains("recall"));

    // Same seed, same data: the same losses, bit for bit (CPU).
    const fs::path again = dir() / "again";
    fs::create_directories(again);
    {
        PluginLibrary l2(PLUGIN_PATH);
        Host host(again);
        Node n(l2.plugin("train.magik"), host, train_params(again, 2, 16, 2));
        ASSERT_NE(n.self, nullptr) << host.fake.error;
        const Movie mv = random_walks(40, 160, 1);
        ASSERT_EQ(n.process(0, mv.detections->p), SPOTFLOW_OK);
        ASSERT_EQ(n.process(1, mv.truth->p), SPOTFLOW_OK);
        ASSERT_EQ(n.finish(), SPOTFLOW_OK) << host.fake.error;
    }
    const auto r = read_jsonl(again / "metrics.jsonl");
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0]["train_loss"], m[0]["train_loss"]);
    EXPECT_EQ(r[1]["val_loss"], m[1]["val_loss"]);
}

TEST_F(Magik, LinksWithTrainedWeightsAndScoresEdges) {
    Host host(dir());
    Node n(lib.plugin("link.magik"), host, link_params((trained() / "best_model.pth").string(), 16, 2));
    ASSERT_NE(n.self, nullptr) << host.fake.error;
    host.fake.input_counts = {1, 1};
    const Movie m = random_walks(40, 64, 99);
    ASSERT_EQ(n.process(0, m.detections->p), SPOTFLOW_OK);
    ASSERT_EQ(n.process(1, m.truth->p), SPOTFLOW_OK);
    ASSERT_EQ(n.finish(), SPOTFLOW_OK) << host.fake.error;
    const auto tracks = n.port(0)->table();
    EXPECT_EQ(tracks.rows(), m.detections->table().rows());
    EXPECT_GE(tracks.find("track_id"), 0);
    EXPECT_GE(tracks.find("photons"), 0); // every input column is kept
    const auto metrics = n.port(2)->table();
    const double recall = metrics.get_double(metrics.require("recall"), 0);
    const double precision = metrics.get_double(metrics.require("precision"), 0);
    EXPECT_GT(recall, 0.9);
    EXPECT_GT(precision, 0.8);
    // The edges table marks at most one outgoing link per detection.
    const auto e = n.port(1)->table();
    std::map<int64_t, int> out;
    for (int64_t r = 0; r < e.rows(); ++r) {
        if (e.get_int(e.require("linked"), r)) {
            EXPECT_EQ(++out[e.get_int(e.require("source"), r)], 1);
        }
    }
}

TEST_F(Magik, BadDetectionsNameTheColumn) {
    Host host(dir());
    Node n(lib.plugin("link.magik"), host, link_params((trained() / "best_model.pth").string(), 16, 2));
    ASSERT_NE(n.self, nullptr);
    host.fake.input_counts = {1, 0};
    spotflow::TableBuilder b;
    const auto f = b.add_column("frame", spotflow::ColumnType::Int64);
    const auto x = b.add_column("x", spotflow::ColumnType::Float64);
    b.append_int(f, 0), b.append_double(x, 1);
    OwnedPacket p;
    p.p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&p.p.schema, &p.p.array);
    // The linker streams: the error comes with the batch, before any output.
    EXPECT_EQ(n.process(0, p.p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(n.emitted.empty());
    EXPECT_NE(host.fake.error.find("detections"), std::string::npos) << host.fake.error;
    EXPECT_NE(host.fake.error.find("'y'"), std::string::npos) << host.fake.error;
    EXPECT_EQ(host.fake.error.find('\n'), std::string::npos);

    // A frame column that is not a frame index (milliseconds, say).
    Node n2(lib.plugin("link.magik"), host, link_params((trained() / "best_model.pth").string(), 16, 2));
    spotflow::TableBuilder b2;
    const auto f2 = b2.add_column("frame", spotflow::ColumnType::Int64), x2 = b2.add_column("x", spotflow::ColumnType::Float64),
               y2 = b2.add_column("y", spotflow::ColumnType::Float64);
    for (const int64_t t : {int64_t{0}, int64_t{20'000'000}}) b2.append_int(f2, t), b2.append_double(x2, 1), b2.append_double(y2, 1);
    OwnedPacket p2;
    p2.p.kind = SPOTFLOW_DATA_TABLE;
    b2.finish(&p2.p.schema, &p2.p.array);
    EXPECT_EQ(n2.process(0, p2.p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.fake.error, "detections: frames run from 0 to 20000000, more than 10000000 frames: is 'frame' a frame index?");
}

TEST_F(Magik, EmptyAndTinyInputs) {
    const std::string w = (trained() / "best_model.pth").string();
    {   // No batch at all (an empty movie): an empty tracks table.
        Host host(dir());
        host.fake.input_counts = {1, 0};
        Node n(lib.plugin("link.magik"), host, link_params(w, 16, 2));
        ASSERT_EQ(n.finish(), SPOTFLOW_OK) << host.fake.error;
        ASSERT_NE(n.port(0), nullptr);
        EXPECT_EQ(n.port(0)->table().rows(), 0);
    }
    {   // One frame: every detection its own track.
        Host host(dir());
        host.fake.input_counts = {1, 0};
        Node n(lib.plugin("link.magik"), host, link_params(w, 16, 2));
        spotflow::TableBuilder b;
        const auto f = b.add_column("frame", spotflow::ColumnType::Int64), x = b.add_column("x", spotflow::ColumnType::Float64),
                   y = b.add_column("y", spotflow::ColumnType::Float64);
        for (int i = 0; i < 3; ++i) b.append_int(f, 5), b.append_double(x, 10 * i), b.append_double(y, 0);
        OwnedPacket p;
        p.p.kind = SPOTFLOW_DATA_TABLE;
        b.finish(&p.p.schema, &p.p.array);
        ASSERT_EQ(n.process(0, p.p), SPOTFLOW_OK);
        ASSERT_EQ(n.finish(), SPOTFLOW_OK) << host.fake.error;
        const auto t = n.port(0)->table();
        ASSERT_EQ(t.rows(), 3);
        for (int64_t r = 0; r < 3; ++r) EXPECT_EQ(t.get_int(t.require("track_id"), r), r);
    }
}

TEST_F(Magik, TrainerRefusesUnpairedInputsAndTooLittleData) {
    {
        Host host(dir());
        host.fake.input_counts = {2, 1};
        Node n(lib.plugin("train.magik"), host, train_params(dir(), 1, 8, 1));
        EXPECT_EQ(n.self, nullptr);
        EXPECT_EQ(host.fake.error,
                  "train.magik needs one truth edge per detections edge, in the same order; got 2 detections and 1 truth edges");
    }
    {
        const fs::path out = dir() / "small";
        fs::create_directories(out);
        Host host(out);
        Node n(lib.plugin("train.magik"), host, train_params(out, 1, 8, 1));
        ASSERT_NE(n.self, nullptr) << host.fake.error;
        const Movie m = random_walks(5, 8, 1); // one window of 8 frames
        ASSERT_EQ(n.process(0, m.detections->p), SPOTFLOW_OK);
        ASSERT_EQ(n.process(1, m.truth->p), SPOTFLOW_OK);
        EXPECT_EQ(n.finish(), SPOTFLOW_ERR_INVALID_ARGUMENT);
        EXPECT_NE(host.fake.error.find("too little data: 1 windows of 8 frames"), std::string::npos) << host.fake.error;
    }
}

// Every bad weights file fails create with one line naming the file.
TEST_F(Magik, BadWeightsFilesGiveOneClearLine) {
    const fs::path good = trained() / "best_model.pth";
    std::string bytes;
    {
        std::ifstream in(good, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    ASSERT_GT(bytes.size(), 1000u);
    const auto write = [&](const std::string& name, const std::string& content) {
        const fs::path p = dir() / name;
        std::ofstream(p, std::ios::binary) << content;
        return p.string();
    };
    struct Case {
        std::string path, why;
        int hidden, layers;
    };
    const std::vector<Case> cases = {
        {(dir() / "absent.pth").string(), "cannot be opened", 16, 2},
        {write("garbage.pth", std::string(4096, 'x')), "not a link.magik weights file", 16, 2},
        {write("truncated.pth", bytes.substr(0, bytes.size() / 2)), "truncated", 16, 2},
        {write("long.pth", bytes + "extra"), "corrupt", 16, 2},
        {good.string(), "wrong architecture: trained with hidden_dim 16, num_layers 2, the node is set to hidden_dim 64, num_layers 3", 64, 3},
        {good.string(), "wrong architecture", 16, 3},
        {write("short.pth", bytes.substr(0, 10)), "truncated (10 bytes", 16, 2},
        {write("decode.sfw", "SFDECODE" + std::string(4096, '\0')), "a detect.decode weights file, not link.magik's", 16, 2},
        {write("torch.pth", std::string("PK\x03\x04", 4) + std::string(4096, 'z')), "a PyTorch (zip) checkpoint", 16, 2},
    };
    for (const auto& c : cases) {
        Host host(dir());
        Node n(lib.plugin("link.magik"), host, link_params(c.path, c.hidden, c.layers));
        EXPECT_EQ(n.self, nullptr) << c.path;
        EXPECT_EQ(host.fake.error_status, SPOTFLOW_ERR_INVALID_ARGUMENT);
        EXPECT_NE(host.fake.error.find(c.path), std::string::npos) << host.fake.error;
        EXPECT_NE(host.fake.error.find(c.why), std::string::npos) << host.fake.error;
        EXPECT_EQ(host.fake.error.find('\n'), std::string::npos) << host.fake.error;
    }
}

// The runaway guard: a frame with more detections than the limit stops the
// run with one line naming the frame, the count and the detector's threshold.
TEST_F(Magik, TooManyDetectionsInAFrameStopWithOneClearLine) {
    Host host(dir());
    host.fake.input_counts = {1, 0};
    auto params = link_params((trained() / "best_model.pth").string(), 16, 2);
    params["max_detections_per_frame"] = 50;
    Node n(lib.plugin("link.magik"), host, params);
    ASSERT_NE(n.self, nullptr) << host.fake.error;
    spotflow::TableBuilder b;
    const auto f = b.add_column("frame", spotflow::ColumnType::Int64), x = b.add_column("x", spotflow::ColumnType::Float64),
               y = b.add_column("y", spotflow::ColumnType::Float64);
    for (int t = 0; t < 3; ++t)
        for (int i = 0; i < (t == 2 ? 51 : 40); ++i) b.append_int(f, t), b.append_double(x, i), b.append_double(y, t);
    OwnedPacket p;
    p.p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&p.p.schema, &p.p.array);
    EXPECT_EQ(n.process(0, p.p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(n.emitted.empty());
    EXPECT_EQ(host.fake.error,
              "detections: frame 2 has 51 detections, more than max_detections_per_frame (50): the detector is probably "
              "finding noise; raise its threshold (detect.decode: detection_threshold, detect.wavelet: threshold) or raise the limit");
    // The default is derived from memory and says so.
    auto dflt = link_params((trained() / "best_model.pth").string(), 16, 2);
    Node n2(lib.plugin("link.magik"), host, dflt);
    spotflow::TableBuilder b2;
    const auto f2 = b2.add_column("frame", spotflow::ColumnType::Int64), x2 = b2.add_column("x", spotflow::ColumnType::Float64),
               y2 = b2.add_column("y", spotflow::ColumnType::Float64);
    for (int i = 0; i < 5000; ++i) b2.append_int(f2, 7), b2.append_double(x2, i % 100), b2.append_double(y2, i / 100);
    OwnedPacket p2;
    p2.p.kind = SPOTFLOW_DATA_TABLE;
    b2.finish(&p2.p.schema, &p2.p.array);
    EXPECT_EQ(n2.process(0, p2.p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(host.fake.error.find("frame 7 has 5,000 detections"), std::string::npos) << host.fake.error;
    EXPECT_NE(host.fake.error.find("derived from this machine's memory"), std::string::npos) << host.fake.error;
}

// Streaming: batches that declare their frames complete (as detectors'
// do) come out as tracks before the stream ends, and together hold every row.
TEST_F(Magik, TracksStreamOutBeforeTheEnd) {
    Host host(dir());
    host.fake.input_counts = {1, 0};
    Node n(lib.plugin("link.magik"), host, link_params((trained() / "best_model.pth").string(), 16, 2));
    ASSERT_NE(n.self, nullptr) << host.fake.error;
    // 40 walks in 128 x 128 px: ~50 k candidate edges, so the network's
    // batches (~32 k edges) fill before the stream ends.
    const Movie m = random_walks(40, 96, 7);
    const auto all = m.detections->table();
    int64_t rows = 0;
    for (int64_t f0 = 0; f0 < 96; f0 += 16) {
        spotflow::TableBuilder b;
        const auto f = b.add_column("frame", spotflow::ColumnType::Int64), x = b.add_column("x", spotflow::ColumnType::Float64),
                   y = b.add_column("y", spotflow::ColumnType::Float64);
        for (int64_t r = 0; r < all.rows(); ++r) {
            const int64_t t = all.get_int(all.require("frame"), r);
            if (t < f0 || t >= f0 + 16) continue;
            b.append_int(f, t), b.append_double(x, all.get_double(all.require("x"), r)), b.append_double(y, all.get_double(all.require("y"), r));
            ++rows;
        }
        OwnedPacket p;
        p.p.kind = SPOTFLOW_DATA_TABLE;
        p.p.info.frame_offset = f0, p.p.info.frame_count = 16, p.p.info.total_frames = 96;
        b.finish(&p.p.schema, &p.p.array);
        ASSERT_EQ(n.process(0, p.p), SPOTFLOW_OK) << host.fake.error;
    }
    const size_t before_end = n.emitted.size();
    EXPECT_GE(before_end, 1u); // tracks batches while the stream arrived
    ASSERT_EQ(n.finish(), SPOTFLOW_OK) << host.fake.error;
    int64_t out = 0;
    for (const auto& p : n.emitted)
        if (p->port == 0) out += p->table().rows();
    EXPECT_EQ(out, rows);
}

// Windows: a 120-frame movie linked in windows of 6 frames (39 windows)
// still gives each punctum one track id from its first frame to its last.
TEST_F(Magik, TrackIdsAreConsistentAcrossWindows) {
    ASSERT_TRUE(fs::exists(SHIPPED_WEIGHTS)) << "no shipped weights at " << SHIPPED_WEIGHTS;
    std::mt19937_64 rng(4);
    std::normal_distribution<double> step(0, 0.3);
    spotflow::TableBuilder b;
    const auto cf = b.add_column("frame", spotflow::ColumnType::Int64), cx = b.add_column("x", spotflow::ColumnType::Float64),
               cy = b.add_column("y", spotflow::ColumnType::Float64), cp = b.add_column("probability", spotflow::ColumnType::Float64),
               cn = b.add_column("photons", spotflow::ColumnType::Float64), ci = b.add_column("true_id", spotflow::ColumnType::Int64);
    std::vector<double> x, y;
    for (int i = 0; i < 12; ++i) x.push_back(40 + 50 * (i % 4)), y.push_back(50 + 60 * (i / 4));
    for (int f = 0; f < 120; ++f)
        for (int i = 0; i < 12; ++i) {
            x[static_cast<size_t>(i)] += step(rng), y[static_cast<size_t>(i)] += step(rng);
            b.append_int(cf, f), b.append_double(cx, x[static_cast<size_t>(i)]), b.append_double(cy, y[static_cast<size_t>(i)]);
            b.append_double(cp, 0.95), b.append_double(cn, 1800), b.append_int(ci, i);
        }
    OwnedPacket p;
    p.p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&p.p.schema, &p.p.array);
    Host host(dir());
    host.fake.input_counts = {1, 0};
    auto params = link_params("", 64, 3);
    params["window_frames"] = 6;
    Node n(lib.plugin("link.magik"), host, params);
    ASSERT_NE(n.self, nullptr) << host.fake.error;
    ASSERT_EQ(n.process(0, p.p), SPOTFLOW_OK);
    ASSERT_EQ(n.finish(), SPOTFLOW_OK) << host.fake.error;
    const auto t = n.port(0)->table();
    std::map<int64_t, std::set<int64_t>> ids_of; // true punctum -> track ids
    std::set<int64_t> all;
    for (int64_t r = 0; r < t.rows(); ++r) {
        ids_of[t.get_int(t.require("true_id"), r)].insert(t.get_int(t.require("track_id"), r));
        all.insert(t.get_int(t.require("track_id"), r));
    }
    for (const auto& [i, ids] : ids_of) EXPECT_EQ(ids.size(), 1u) << "punctum " << i;
    EXPECT_EQ(all.size(), 12u);
    EXPECT_NE(std::find_if(host.fake.logs.begin(), host.fake.logs.end(),
                           [](const std::string& l) { return l.find("in 39 windows") != std::string::npos; }),
              host.fake.logs.end());
}

// The shipped weights, through the CLI: sim.tirf -> detect.wavelet ->
// link.magik -> gapfill.fragments -> eval.tracks on a small clip (the
// linker's tracks arrive downstream as several batches: 40 frames in
// detector chunks of 16).
TEST_F(Magik, ShippedWeightsOnASmallSimulatedClip) {
    ASSERT_TRUE(fs::exists(SHIPPED_WEIGHTS)) << "no shipped weights at " << SHIPPED_WEIGHTS;
    const fs::path recipe = dir() / "clip.json", out = dir() / "clip";
    std::ofstream(recipe) << R"({"spotflow_recipe": 1, "name": "clip", "seed": 3,
      "nodes": [{"id": "sim", "plugin": "sim.tirf", "params": {"num_frames": 40, "image_size": 128, "num_tracks": 12, "seed": 21}},
                {"id": "detect", "plugin": "detect.wavelet"},
                {"id": "link", "plugin": "link.magik"},
                {"id": "gapfill", "plugin": "gapfill.fragments", "params": {"figure": ""}},
                {"id": "score", "plugin": "eval.tracks", "params": {"files": {"track_statistics": "", "fragmentation": "",
                  "track_length_analysis": "", "diagnostic_summary": "", "comparison": "", "comparison_plot": ""}}},
                {"id": "write", "plugin": "write.csv", "params": {"file": "scores.csv"}}],
      "edges": [{"from": "sim.movie", "to": "detect.movie"}, {"from": "detect.detections", "to": "link.detections"},
                {"from": "link.tracks", "to": "gapfill.tracks"}, {"from": "gapfill.tracks", "to": "score.tracks"},
                {"from": "sim.truth", "to": "score.truth"},
                {"from": "score.metrics", "to": "write.table"}]})";
    const std::string cmd = std::string(SPOTFLOW_BIN) + " run " + recipe.string() + " --out " + out.string() + " -q 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    // scores.csv: a header and one row; find the alpha column.
    std::ifstream in(out / "scores.csv");
    std::string header, row, cell;
    std::getline(in, header);
    std::getline(in, row);
    std::vector<std::string> h, v;
    for (std::stringstream s(header); std::getline(s, cell, ',');) h.push_back(cell);
    for (std::stringstream s(row); std::getline(s, cell, ',');) v.push_back(cell);
    const auto alpha = std::find(h.begin(), h.end(), "alpha") - h.begin();
    ASSERT_LT(static_cast<size_t>(alpha), v.size());
    EXPECT_GE(std::stod(v[static_cast<size_t>(alpha)]), 0.9);
}

} // namespace
