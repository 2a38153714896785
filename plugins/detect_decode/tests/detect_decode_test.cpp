// detect.decode through its ABI with the fake host: the shipped weights on a
// simulated clip (sim.tirf), streaming, the output columns, and the errors
// for bad weights files and bad movies.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spotflow_decode/match.hpp"
#include "plugin_harness.hpp"
#include "plugin_params.hpp"

namespace fs = std::filesystem;
using namespace spotflow::testing;

namespace {

struct Clip {
    std::vector<std::unique_ptr<OwnedPacket>> chunks;    // movie chunks
    std::map<int64_t, std::vector<decode::Point>> truth; // by frame
    int64_t frames = 0;
};

Clip simulate(int64_t size, int64_t frames, int64_t tracks, double photons, int64_t chunk, uint64_t seed,
              const nlohmann::json& more = nlohmann::json::object()) {
    PluginLibrary sim(SIM_PLUGIN_PATH);
    const auto& d = sim.plugin("sim.tirf");
    FakeHost host;
    NodeRunner node(d, host,
                    [&] {
                        nlohmann::json o = {{"image_size", size}, {"num_frames", frames}, {"num_tracks", tracks},
                                            {"photons", photons}, {"chunk_frames", chunk}, {"seed", seed}};
                        o.update(more);
                        return params_with_defaults(d, o).dump();
                    }());
    EXPECT_TRUE(node.created()) << host.error;
    EXPECT_EQ(node.pull_all(), SPOTFLOW_OK) << host.error;
    Clip c;
    c.frames = frames;
    for (auto& p : node.emitted) {
        if (p->port == 0) {
            c.chunks.push_back(std::move(p));
            continue;
        }
        const auto t = p->table();
        const auto f = t.require("frame"), x = t.require("x"), y = t.require("y");
        for (int64_t r = 0; r < t.rows(); ++r) c.truth[t.get_int(f, r)].push_back({t.get_double(x, r), t.get_double(y, r)});
    }
    return c;
}

class DetectDecode : public ::testing::Test {
protected:
    // The host tells the plugin where its library is (the shipped weights).
    DetectDecode() { host.plugin_dir = fs::path(PLUGIN_PATH).parent_path().string(); }
    std::string params(const nlohmann::json& overrides = nlohmann::json::object()) const {
        return params_with_defaults(desc, overrides).dump();
    }
    // Detections by frame, and the frames each emitted batch covered.
    std::map<int64_t, std::vector<decode::Point>> detect(const Clip& clip, NodeRunner& node) {
        for (const auto& c : clip.chunks) EXPECT_EQ(node.process(0, c->p), SPOTFLOW_OK) << host.error;
        EXPECT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
        std::map<int64_t, std::vector<decode::Point>> out;
        for (int64_t f = 0; f < clip.frames; ++f) out[f];
        for (const auto& p : node.emitted) {
            const auto t = p->table();
            const auto f = t.require("frame"), x = t.require("x"), y = t.require("y");
            for (int64_t r = 0; r < t.rows(); ++r) out[t.get_int(f, r)].push_back({t.get_double(x, r), t.get_double(y, r)});
        }
        return out;
    }
    // One line naming the file, and nothing created.
    void expect_weights_error(const std::string& path, const std::string& what) {
        FakeHost h;
        NodeRunner node(desc, h, params({{"weights", path}}));
        EXPECT_FALSE(node.created());
        EXPECT_NE(h.error.find(path), std::string::npos) << h.error;
        EXPECT_NE(h.error.find(what), std::string::npos) << h.error;
        EXPECT_EQ(h.error.find('\n'), std::string::npos) << h.error;
        EXPECT_LT(h.error.size(), 300u) << h.error;
    }
    // sim.tirf's default camera, stated: the clips below are too short
    // (chunks of < 8 frames) to estimate it from.
    static nlohmann::json scmos() { return {{"camera", {{"kind", "scmos"}}}}; }
    double f1(const Clip& clip, const std::map<int64_t, std::vector<decode::Point>>& det) const {
        decode::Scores s;
        for (int64_t f = 0; f < clip.frames; ++f) {
            const auto it = clip.truth.find(f);
            s += decode::match_frame(det.at(f), it == clip.truth.end() ? std::vector<decode::Point>{} : it->second, 2.0);
        }
        return s.f1();
    }
    static std::string default_weights() { return (fs::path(PLUGIN_PATH).parent_path() / "decode_default.sfw").string(); }

    PluginLibrary lib{PLUGIN_PATH};
    const spotflow_plugin_desc& desc = lib.plugin("detect.decode");
    FakeHost host;
};

TEST_F(DetectDecode, ShippedWeightsFindTheSimulatedPuncta) {
    // Sparse enough that no two puncta come within ~2.5 px (2 PSF sigmas),
    // which no detector here separates (8 tracks in 64 x 64 px collide).
    const Clip clip = simulate(80, 12, 5, 2000, 5, 11);
    NodeRunner node(desc, host, params(scmos()));
    ASSERT_TRUE(node.created()) << host.error;
    const auto det = detect(clip, node);
    decode::Scores s;
    for (int64_t f = 0; f < clip.frames; ++f) {
        const auto it = clip.truth.find(f);
        const auto fs = decode::match_frame(det.at(f), it == clip.truth.end() ? std::vector<decode::Point>{} : it->second, 2.0);
        s += fs;
    }
    EXPECT_GE(s.f1(), 0.95) << "P " << s.precision() << " R " << s.recall();
    EXPECT_LT(s.rmse(), 0.3);
    // Every detection row in range, with the columns downstream nodes read.
    for (const auto& p : node.emitted) {
        const auto t = p->table();
        for (const char* c : {"frame", "x", "y", "photons", "background", "probability", "x_sigma", "y_sigma",
                              "photons_sigma", "uncertainty"})
            ASSERT_GE(t.find(c), 0) << c;
        for (int64_t r = 0; r < t.rows(); ++r) {
            EXPECT_GE(t.get_double(t.find("probability"), r), 0.5);
            EXPECT_LE(t.get_double(t.find("probability"), r), 1.0);
            EXPECT_GT(t.get_double(t.find("x_sigma"), r), 0);
            EXPECT_GT(t.get_double(t.find("photons"), r), 0);
            EXPECT_GE(t.get_double(t.find("x"), r), -1);
            EXPECT_LE(t.get_double(t.find("x"), r), 80);
        }
    }
}

TEST_F(DetectDecode, ChunkingDoesNotChangeTheDetections) {
    const Clip a = simulate(32, 7, 4, 2000, 7, 3), b = simulate(32, 7, 4, 2000, 2, 3);
    NodeRunner na(desc, host, params(scmos())), nb(desc, host, params(scmos()));
    ASSERT_TRUE(na.created() && nb.created()) << host.error;
    const auto da = detect(a, na), db = detect(b, nb);
    ASSERT_EQ(da.size(), 7u);
    for (const auto& [f, v] : da) {
        ASSERT_EQ(v.size(), db.at(f).size()) << "frame " << f;
        for (size_t i = 0; i < v.size(); ++i) {
            EXPECT_NEAR(v[i].x, db.at(f)[i].x, 1e-4);
            EXPECT_NEAR(v[i].y, db.at(f)[i].y, 1e-4);
        }
    }
    // The last frame of each chunk waits for the next one: the chunked run
    // emits a batch per chunk, covering every frame exactly once.
    int64_t covered = 0;
    for (const auto& p : nb.emitted) covered += p->p.info.frame_count;
    EXPECT_EQ(covered, 7);
}

TEST_F(DetectDecode, MissingWeightsFileFailsNamingIt) {
    expect_weights_error("/nonexistent/decode.sfw", "missing");
}

TEST_F(DetectDecode, TruncatedWeightsFileFailsNamingIt) {
    std::ifstream in(default_weights(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(bytes.size(), 1000u);
    const auto path = (fs::temp_directory_path() / "decode_truncated.sfw").string();
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
    expect_weights_error(path, "truncated");
    std::ofstream(path, std::ios::binary).write(bytes.data(), 30); // inside the header
    expect_weights_error(path, "weights file");
    fs::remove(path);
}

TEST_F(DetectDecode, WeightsOfAnotherArchitectureFailNamingTheFile) {
    std::ifstream in(default_weights(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    uint64_t n = 0;
    std::memcpy(&n, bytes.data() + 12, 8);
    auto header = nlohmann::json::parse(bytes.substr(20, n));
    header["network"]["frame_channels"] = header["network"]["frame_channels"].get<int>() + 4;
    const std::string h = header.dump();
    const uint64_t m = h.size();
    std::string out = bytes.substr(0, 12);
    out.append(reinterpret_cast<const char*>(&m), 8);
    out += h + bytes.substr(20 + n, bytes.size() - 20 - n - 8);
    // A sound file (its checksum recomputed, FNV-1a) describing a wider network.
    uint64_t hash = 1469598103934665603ull;
    for (const char c : out) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    out.append(reinterpret_cast<const char*>(&hash), 8);
    const auto path = (fs::temp_directory_path() / "decode_other.sfw").string();
    std::ofstream(path, std::ios::binary).write(out.data(), static_cast<std::streamsize>(out.size()));
    expect_weights_error(path, "another architecture");
    // A file that is not a weights file at all (e.g. a TorchScript zip).
    std::ofstream(path, std::ios::binary) << "PK\x03\x04 not decode weights";
    expect_weights_error(path, "not a spotflow weights file");
    fs::remove(path);
}

// The camera from the movie (libs/camera's calibration): an EMCCD clip
// (gain 100, 20 e-/ADU: 5 ADU per photo-electron) with the defaults, no
// camera stated. run.json gets the estimate.
TEST_F(DetectDecode, EstimatesAnEmccdCameraFromTheMovie) {
    const Clip clip = simulate(96, 16, 8, 2000, 16, 5,
                               {{"camera", "emccd"}, {"em_gain", 100}, {"e_per_adu", 20}, {"read_noise_e", 50}});
    NodeRunner node(desc, host, params());
    ASSERT_TRUE(node.created()) << host.error;
    const auto det = detect(clip, node);
    ASSERT_TRUE(host.records.count("camera")) << host.error;
    const auto cam = nlohmann::json::parse(host.records.at("camera"));
    EXPECT_EQ(cam.at("kind"), "emccd") << cam.dump();
    EXPECT_TRUE(cam.at("estimated").get<bool>());
    EXPECT_NEAR(cam.at("adu_per_electron").get<double>(), 5.0, 1.25) << cam.dump();
    EXPECT_NEAR(cam.at("baseline_adu").get<double>(), 100.0, 15.0) << cam.dump();
    EXPECT_GE(f1(clip, det), 0.95);
}

// A clip too short to calibrate on: one line saying so and what to do.
TEST_F(DetectDecode, TooShortToEstimateTheCameraFailsSayingSo) {
    const Clip clip = simulate(32, 4, 2, 2000, 4, 3);
    NodeRunner node(desc, host, params());
    ASSERT_TRUE(node.created()) << host.error;
    EXPECT_EQ(node.process(0, clip.chunks.front()->p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(host.error.find("state the camera"), std::string::npos) << host.error;
    EXPECT_EQ(host.error.find('\n'), std::string::npos) << host.error;
}

// Weights of issue 5 (no input_normalisation in the file: photons) with
// detect.decode 1.x's flat camera params run as they did.
TEST_F(DetectDecode, WeightsBeforeTheCameraNormalisationRunAsBefore) {
    const Clip clip = simulate(80, 12, 5, 2000, 5, 11);
    NodeRunner node(desc, host, params({{"weights", LEGACY_WEIGHTS}, {"baseline_adu", 100}, {"e_per_adu", 0.5}}));
    ASSERT_TRUE(node.created()) << host.error;
    EXPECT_GE(f1(clip, detect(clip, node)), 0.95);
    const auto cam = nlohmann::json::parse(host.records.at("camera"));
    EXPECT_EQ(cam.at("input_normalisation"), "photons");
    EXPECT_FALSE(cam.at("estimated").get<bool>());
}

TEST_F(DetectDecode, BadMoviesAndParamsFail) {
    NodeRunner node(desc, host, params());
    ASSERT_TRUE(node.created()) << host.error;
    OwnedPacket p;
    p.p.kind = SPOTFLOW_DATA_TENSOR;
    p.p.tensor = spotflow::make_tensor<float>({2, 3, 8, 8});
    EXPECT_EQ(node.process(0, p.p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(host.error.find("T x H x W"), std::string::npos) << host.error;
    OwnedPacket q;
    q.p.kind = SPOTFLOW_DATA_TENSOR;
    q.p.tensor = spotflow::make_tensor<int8_t>({1, 8, 8});
    EXPECT_EQ(node.process(0, q.p), SPOTFLOW_ERR_UNSUPPORTED);
    EXPECT_NE(host.error.find("int8"), std::string::npos) << host.error;

    FakeHost h2;
    NodeRunner cuda(desc, h2, params({{"device", "cuda"}}));
    EXPECT_FALSE(cuda.created());
    EXPECT_NE(h2.error.find("device"), std::string::npos) << h2.error;
}

} // namespace
