// spotflow_bench: the speed and score targets of the classical pipeline,
// measured side by side in one run (the machine is shared and noisy, so
// ratios come from one process), printed as one table.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <unistd.h>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench_util.hpp"
#include "plugin_harness.hpp"
#include "plugin_params.hpp"

namespace fs = std::filesystem;
using namespace spotflow::testing;
using bench::Clock;
using bench::seconds_since;

namespace {

struct Row {
    std::string what, measured, target;
    bool met;
};
std::vector<Row> table;

void report(std::string what, std::string measured, std::string target, bool met) {
    fmt::print("  {:<58} {:>16}   target {:<12} {}\n", what, measured, target, met ? "met" : "MISSED");
    std::fflush(stdout);
    table.push_back({std::move(what), std::move(measured), std::move(target), met});
}

std::string plugin_path(const std::string& file) { return std::string(PLUGIN_DIR) + "/" + file; }

// ---- LAP linking at 100, 1,000 and 10,000 particles per frame ------------

// Brownian particles at a constant density (one per 10 x 10 px), 100
// frames: the field grows with N, so an ideal linker's time grows with N.
std::unique_ptr<OwnedPacket> random_walks(int n, int frames, uint64_t seed) {
    std::mt19937_64 rng(seed);
    const double side = std::sqrt(100.0 * n);
    std::uniform_real_distribution<double> place(0, side);
    std::normal_distribution<double> step(0, 0.5);
    std::vector<double> x(static_cast<size_t>(n)), y(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) x[static_cast<size_t>(i)] = place(rng), y[static_cast<size_t>(i)] = place(rng);
    spotflow::TableBuilder b;
    const auto cf = b.add_column("frame", spotflow::ColumnType::Int64);
    const auto cx = b.add_column("x", spotflow::ColumnType::Float64);
    const auto cy = b.add_column("y", spotflow::ColumnType::Float64);
    b.reserve(static_cast<size_t>(n) * static_cast<size_t>(frames));
    for (int t = 0; t < frames; ++t)
        for (int i = 0; i < n; ++i) {
            auto& px = x[static_cast<size_t>(i)];
            auto& py = y[static_cast<size_t>(i)];
            px += step(rng);
            py += step(rng);
            b.append_int(cf, t);
            b.append_double(cx, px);
            b.append_double(cy, py);
        }
    auto p = std::make_unique<OwnedPacket>();
    p->p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&p->p.schema, &p->p.array);
    return p;
}

struct LapRun {
    double seconds;
    double correct_links; // fraction of true frame-to-frame links kept
};

LapRun time_lap(int n) {
    PluginLibrary lib(plugin_path("spotflow_link_lap.so"));
    FakeHost host;
    const auto walks = random_walks(n, 100, 11);
    NodeRunner node(lib.plugin("link.lap"), host,
                    R"({"max_distance": 3.0, "max_gap": 2, "max_gap_distance": 4.0, "alternative_cost": "cutoff",
                        "alternative_cost_factor": 1.05, "cutoff_percentile": 0.9})");
    const auto t0 = Clock::now();
    if (node.process(0, walks->p) != SPOTFLOW_OK || node.finish() != SPOTFLOW_OK)
        throw std::runtime_error("link.lap failed: " + host.error);
    const double seconds = seconds_since(t0);
    // Rows are frame-major: particle i of frame t is row t n + i.
    const auto t = node.emitted.at(0)->table();
    const auto id = t.require("track_id");
    int64_t kept = 0;
    for (int64_t f = 0; f + 1 < 100; ++f)
        for (int64_t i = 0; i < n; ++i) kept += t.get_int(id, f * n + i) == t.get_int(id, (f + 1) * n + i);
    return {seconds, static_cast<double>(kept) / (99.0 * n)};
}

void bench_linking() {
    fmt::print("LAP linking with gap closing, 100 frames, constant density\n");
    const LapRun r100 = time_lap(100), r1k = time_lap(1000), r10k = time_lap(10000);
    report("link.lap, 100 particles/frame x 100 frames", fmt::format("{:.3f} s", r100.seconds), "-", true);
    report("link.lap, 1,000 particles/frame x 100 frames", fmt::format("{:.3f} s", r1k.seconds), "-", true);
    report("link.lap, 10,000 particles/frame x 100 frames", fmt::format("{:.2f} s", r10k.seconds), "<= 20 s",
           r10k.seconds <= 20);
    report("link.lap time ratio 10k / 1k", fmt::format("{:.1f}", r10k.seconds / r1k.seconds), "<= 15",
           r10k.seconds / r1k.seconds <= 15);
    report("link.lap true links kept at 10,000/frame (sanity)", fmt::format("{:.4f}", r10k.correct_links), "-", true);
}

// ---- The seed's scenario through the CLI ------------------------------------

std::string spotflow() { return SPOTFLOW_BIN; }
fs::path scratch() {
    static const fs::path d = fs::temp_directory_path() / ("spotflow-bench-" + std::to_string(::getpid()));
    return d;
}

bench::ChildRun must(const std::vector<std::string>& argv) {
    auto r = bench::run_child(argv);
    if (r.exit_code != 0) throw std::runtime_error(argv[1] + " failed: " + r.output);
    return r;
}

// Simulates `samples` seed-000 movies with the given photons and frames.
fs::path simulate(const std::string& name, int samples, double photons, int frames, bool calcium = false) {
    const fs::path out = scratch() / name;
    std::vector<std::string> argv = {spotflow(), "simulate", "--output", out.string(), "--num_samples",
                                     std::to_string(samples), "--photons", fmt::format("{}", photons),
                                     "--num_frames", std::to_string(frames), "--seed", "7", "-q"};
    if (calcium) argv.push_back("--calcium");
    must(argv);
    return out;
}

// The classical pipeline scored by both evaluators on one sample: the
// evaluators' own time is read from run.json (busy seconds per node).
const char* kPipelineEval = R"({"spotflow_recipe": 1, "name": "bench_dataset", "inputs": {"movie": {}, "truth": {}},
  "nodes": [{"id": "read", "plugin": "read.tiff", "params": {"path": "${inputs.movie}"}},
            {"id": "truth", "plugin": "read.tracks_csv", "params": {"path": "${inputs.truth}"}},
            {"id": "detect", "plugin": "detect.wavelet"},
            {"id": "link", "plugin": "link.lap"},
            {"id": "gapfill", "plugin": "gapfill.fragments", "params": {"figure": "", "fill_gaps": "linear"}},
            {"id": "eval_detections", "plugin": "eval.detections"},
            {"id": "eval_tracks", "plugin": "eval.tracks"},
            {"id": "write_scores", "plugin": "write.csv", "params": {"file": "tracking_scores.csv"}}],
  "edges": [{"from": "read.movie", "to": "detect.movie"}, {"from": "detect.detections", "to": "link.detections"},
            {"from": "eval_tracks.metrics", "to": "write_scores.table"},
            {"from": "link.tracks", "to": "gapfill.tracks"},
            {"from": "detect.detections", "to": "eval_detections.detections"},
            {"from": "truth.tracks", "to": "eval_detections.truth"}, {"from": "read.movie", "to": "eval_detections.movie"},
            {"from": "gapfill.tracks", "to": "eval_tracks.tracks"}, {"from": "truth.tracks", "to": "eval_tracks.truth"}]})";

void bench_simulation() {
    fmt::print("Simulation and evaluation of the seed's dataset (seed 000 Steps 1 and 3)\n");
    const fs::path data = scratch() / "seed200";
    const auto r = must({spotflow(), "simulate", "--output", data.string(), "--num_samples", "200", "--seed", "1", "-q"});
    report("spotflow simulate, 200 samples x 100 frames of 256x256", fmt::format("{:.1f} s", r.seconds), "< 60 s",
           r.seconds < 60);

    // Every sample through detection, linking and both evaluators (with
    // their seed files and figures), one run per sample as a lab would.
    const fs::path recipe = scratch() / "dataset_eval.json";
    std::ofstream(recipe) << kPipelineEval;
    double eval_det = 0, eval_trk = 0, wall = 0, f1 = 0, alpha = 0;
    const int n = 200;
    for (int k = 0; k < n; ++k) {
        const fs::path sample = data / fmt::format("sample_{:03d}", k), out = scratch() / "dataset-out";
        fs::remove_all(out);
        wall += must({spotflow(), "run", recipe.string(), "--input", "movie=" + (sample / "movie.tif").string(), "--input",
                      "truth=" + (sample / "ground_truth_tracks.csv").string(), "--out", out.string(), "-q"})
                    .seconds;
        std::ifstream in(out / "run.json");
        const auto run = nlohmann::json::parse(in); // named: a temporary would die before the loop body
        for (const auto& node : run.at("nodes")) {
            if (node.at("id") == "eval_detections") eval_det += node.at("busy_seconds").get<double>();
            if (node.at("id") == "eval_tracks") eval_trk += node.at("busy_seconds").get<double>();
        }
        std::ifstream summary(out / "evaluation_summary.json");
        f1 += nlohmann::json::parse(summary).at("f1").get<double>() / n;
        alpha += std::stod(bench::read_csv(out / "tracking_scores.csv").at(0).at("alpha")) / n;
    }
    report("eval.detections on the 200 samples (busy time, with figures)", fmt::format("{:.1f} s", eval_det), "-", true);
    report("eval.tracks on the 200 samples (busy time, with figures)", fmt::format("{:.1f} s", eval_trk), "-", true);
    report("whole runs: detect, link, gap fill, both evaluators, 200 samples", fmt::format("{:.1f} s", wall), "-", true);
    report("mean F1 / alpha over the 200 samples", fmt::format("{:.4f} / {:.4f}", f1, alpha), "-", true);
    fs::remove_all(data);
}

// A recipe evaluating detect.wavelet on one simulated movie.
const char* kDetectEval = R"({"spotflow_recipe": 1, "name": "bench_detect", "inputs": {"movie": {}, "truth": {}},
  "nodes": [{"id": "read", "plugin": "read.tiff", "params": {"path": "${inputs.movie}"}},
            {"id": "truth", "plugin": "read.tracks_csv", "params": {"path": "${inputs.truth}"}},
            {"id": "detect", "plugin": "detect.wavelet"},
            {"id": "eval", "plugin": "eval.detections", "params": {"plots_file": "", "examples_file": ""}}],
  "edges": [{"from": "read.movie", "to": "detect.movie"}, {"from": "detect.detections", "to": "eval.detections"},
            {"from": "truth.tracks", "to": "eval.truth"}]})";

nlohmann::json detection_scores(const fs::path& sample, const std::string& tag) {
    const fs::path recipe = scratch() / "detect_eval.json";
    std::ofstream(recipe) << kDetectEval;
    const fs::path out = scratch() / ("eval-" + tag);
    must({spotflow(), "run", recipe.string(), "--input", "movie=" + (sample / "movie.tif").string(), "--input",
          "truth=" + (sample / "ground_truth_tracks.csv").string(), "--out", out.string(), "-q"});
    std::ifstream in(out / "evaluation_summary.json");
    return nlohmann::json::parse(in);
}

// Detection frames per second, in process: chunks of 16 frames through
// detect.wavelet with all threads, the movie read once beforehand.
double detection_fps(const fs::path& movie) {
    PluginLibrary reader(plugin_path("spotflow_read_tiff.so"));
    FakeHost host;
    NodeRunner read(reader.plugin("read.tiff"), host,
                    nlohmann::json{{"path", movie.string()}, {"chunk_frames", 16}, {"pixel_size_nm", 0},
                                   {"frame_interval_s", 0}, {"channel", 0}, {"allow_truncated", false}}
                        .dump());
    if (read.pull_all() != SPOTFLOW_OK) throw std::runtime_error("read.tiff: " + host.error);
    PluginLibrary det(plugin_path("spotflow_detect_wavelet.so"));
    NodeRunner detect(det.plugin("detect.wavelet"), host,
                      // The defaults a recipe gets (the likelihood-ratio test, pair splitting),
                      // with the simulator's camera and PSF stated as a lab would.
                      R"({"psf_sigma_px": 1.3,
                          "camera": {"kind": "scmos", "baseline_adu": 100, "e_per_adu": 0.5, "qe": 0.9, "read_noise_e": 1.5}})");
    int64_t frames = 0;
    const auto t0 = Clock::now();
    for (const auto& chunk : read.emitted) {
        if (detect.process(0, chunk->p) != SPOTFLOW_OK) throw std::runtime_error("detect.wavelet: " + host.error);
        frames += chunk->p.info.frame_count;
    }
    return static_cast<double>(frames) / seconds_since(t0);
}

void bench_detection() {
    fmt::print("Detection (detect.wavelet) on the seed's scenario: 256x256, 20 puncta, 100 frames\n");
    const fs::path hi = simulate("p2000", 3, 2000, 100), lo = simulate("p500", 3, 500, 100);
    const double fps = detection_fps(hi / "sample_000" / "movie.tif");
    report("detection frames/s at 256x256 (all threads)", fmt::format("{:.0f}", fps), ">= 300", fps >= 300);
    for (const auto& [dir, photons] : {std::make_pair(hi, 2000), std::make_pair(lo, 500)}) {
        double f1 = 0, ratio = 0;
        for (int k = 0; k < 3; ++k) {
            const auto s = detection_scores(dir / fmt::format("sample_{:03d}", k), fmt::format("{}-{}", photons, k));
            f1 += s.at("f1").get<double>() / 3;
            ratio += s.at("rmse_over_crlb").get<double>() / 3;
        }
        report(fmt::format("F1 at {} photons (3 movies)", photons), fmt::format("{:.4f}", f1), photons == 2000 ? ">= 0.995" : "-",
               photons != 2000 || f1 >= 0.995);
        report(fmt::format("localisation RMSE / CRLB at {} photons", photons), fmt::format("{:.2f}", ratio), "<= 1.15",
               ratio <= 1.15);
    }
}

// The trackers on detect.wavelet's detections, scored with eval.tracks in
// comparison mode, before and after gap filling, all in one recipe run per
// movie; link.magik also scores its candidate edges against the truth.
const char* kTrackEval = R"({"spotflow_recipe": 1, "name": "bench_tracking", "inputs": {"movie": {}, "truth": {}},
  "nodes": [{"id": "read", "plugin": "read.tiff", "params": {"path": "${inputs.movie}"}},
            {"id": "truth", "plugin": "read.tracks_csv", "params": {"path": "${inputs.truth}"}},
            {"id": "detect", "plugin": "detect.wavelet"},
            {"id": "nearest", "plugin": "link.nearest"},
            {"id": "nearest_gapfill", "plugin": "gapfill.fragments", "params": {"figure": "", "fill_gaps": "linear"}},
            {"id": "lap", "plugin": "link.lap"},
            {"id": "lap_gapfill", "plugin": "gapfill.fragments", "params": {"figure": "", "fill_gaps": "linear"}},
            {"id": "magik", "plugin": "link.magik"},
            {"id": "magik_gapfill", "plugin": "gapfill.fragments", "params": {"figure": "", "fill_gaps": "linear"}},
            {"id": "score", "plugin": "eval.tracks", "params": {"labels": ["nearest+gapfill", "lap", "lap+gapfill", "magik", "magik+gapfill"],
              "files": {"track_statistics": "", "fragmentation": "", "track_length_analysis": "",
                        "diagnostic_summary": "", "comparison_plot": ""}}},
            {"id": "write", "plugin": "write.csv", "params": {"file": "tracking_scores.csv"}},
            {"id": "write_edges", "plugin": "write.csv", "params": {"file": "edge_scores.csv"}}],
  "edges": [{"from": "read.movie", "to": "detect.movie"},
            {"from": "detect.detections", "to": "nearest.detections"},
            {"from": "nearest.tracks", "to": "nearest_gapfill.tracks"},
            {"from": "detect.detections", "to": "lap.detections"},
            {"from": "lap.tracks", "to": "lap_gapfill.tracks"},
            {"from": "detect.detections", "to": "magik.detections"},
            {"from": "truth.tracks", "to": "magik.truth"},
            {"from": "magik.tracks", "to": "magik_gapfill.tracks"},
            {"from": "nearest_gapfill.tracks", "to": "score.tracks"},
            {"from": "lap.tracks", "to": "score.tracks"},
            {"from": "lap_gapfill.tracks", "to": "score.tracks"},
            {"from": "magik.tracks", "to": "score.tracks"},
            {"from": "magik_gapfill.tracks", "to": "score.tracks"},
            {"from": "magik.edge_metrics", "to": "write_edges.table"},
            {"from": "truth.tracks", "to": "score.truth"}, {"from": "score.metrics", "to": "write.table"}]})";

struct TrackingRun {
    std::vector<std::string> order;                         // trackers, in the recipe's order
    std::map<std::string, std::map<std::string, double>> m; // tracker -> column -> mean over movies
    std::map<std::string, double> edges;                    // link.magik's edge scores, mean over movies
};

// The comparison recipe on `samples` movies of `dir`, averaged.
TrackingRun run_trackers(const fs::path& dir, int samples, const std::string& tag, const std::vector<std::string>& sets = {}) {
    const fs::path recipe = scratch() / "track_eval.json";
    std::ofstream(recipe) << kTrackEval;
    TrackingRun r;
    for (int k = 0; k < samples; ++k) {
        const fs::path sample = dir / fmt::format("sample_{:03d}", k), out = scratch() / fmt::format("track-{}-{}", tag, k);
        std::vector<std::string> argv = {spotflow(), "run", recipe.string(), "--input", "movie=" + (sample / "movie.tif").string(),
                                         "--input", "truth=" + (sample / "ground_truth_tracks.csv").string(), "--out",
                                         out.string(), "-q"};
        for (const auto& set : sets) argv.insert(argv.end(), {"--set", set});
        must(argv);
        for (const auto& row : bench::read_csv(out / "tracking_scores.csv")) {
            const std::string t = row.at("tracker");
            if (k == 0) r.order.push_back(t);
            for (const char* c : {"alpha", "beta", "jsc", "jsc_theta", "fragmentation", "mean_track_length",
                                  "gt_mean_track_length"})
                r.m[t][c] += std::stod(row.at(c)) / samples;
        }
        for (const auto& row : bench::read_csv(out / "edge_scores.csv"))
            for (const char* c : {"precision", "recall", "seconds"}) r.edges[c] += std::stod(row.at(c)) / samples;
    }
    return r;
}

void bench_tracking() {
    fmt::print("Tracking on the seed's scenario (detect.wavelet detections, 3 movies of 100 frames, 2000 photons)\n");
    const fs::path dir = simulate("p2000", 3, 2000, 100);
    const TrackingRun r = run_trackers(dir, 3, "seed");
    for (const std::string& t : r.order) {
        const auto& m = r.m.at(t);
        const bool final = t == "lap+gapfill" || t == "magik+gapfill";
        const double ratio = m.at("mean_track_length") / m.at("gt_mean_track_length");
        report(fmt::format("{}: alpha / beta / JSC / JSCtheta", t),
               fmt::format("{:.3f} / {:.3f} / {:.3f} / {:.3f}", m.at("alpha"), m.at("beta"), m.at("jsc"), m.at("jsc_theta")),
               final ? "alpha >= 0.97" : "-", !final || m.at("alpha") >= 0.97);
        report(fmt::format("{}: fragmentation, mean length (truth {:.1f})", t, m.at("gt_mean_track_length")),
               fmt::format("{:.3f}, {:.1f}", m.at("fragmentation"), m.at("mean_track_length")),
               final ? "frag <= 1.05" : "-", !final || m.at("fragmentation") <= 1.05);
        if (final)
            report(fmt::format("{}: mean track length / truth's", t), fmt::format("{:.3f}", ratio), ">= 0.85", ratio >= 0.85);
    }
    report("link.magik edge recall at threshold 0.3", fmt::format("{:.4f}", r.edges.at("recall")), ">= 0.99",
           r.edges.at("recall") >= 0.99);
    report("link.magik edge precision at threshold 0.3", fmt::format("{:.4f}", r.edges.at("precision")), ">= 0.95",
           r.edges.at("precision") >= 0.95);
    report("link.magik linking time, seed movie (graph + network + assignment)", fmt::format("{:.3f} s", r.edges.at("seconds")),
           "<= 1 s", r.edges.at("seconds") <= 1);

    // The dense scenario: 150 puncta in 256 x 256, faster Brownian and
    // directed motion, blinking, tracks born and dying inside the movie.
    fmt::print("Tracking on a dense scenario (150 puncta, D 0.5 px^2/frame, half directed at 2.5 px/frame, blinking 0.1, lifetime 30)\n");
    const fs::path dense = scratch() / "dense";
    must({spotflow(), "simulate", "--output", dense.string(), "--num_samples", "3", "--num_tracks", "150", "--num_frames", "100",
          "--photons", "2000", "--seed", "17", "-s", "diffusion_px2_per_frame=0.5", "-s", "directed_fraction=0.5", "-s",
          "speed_px_per_frame=2.5", "-s", "blink_off_probability=0.1", "-s", "mean_lifetime_frames=30", "-q"});
    // The gap filler at the seed's settings (40 frames, 100 px) joins
    // fragments of different puncta when 150 of them are born and die inside
    // the movie; every branch gets the same filler set for this density.
    std::vector<std::string> sets;
    for (const char* node : {"nearest_gapfill", "lap_gapfill", "magik_gapfill"})
        for (const char* kv : {"max_gap=4", "max_distance=15"}) sets.push_back(std::string(node) + "." + kv);
    fmt::print("  (gap filling for this density: max_gap 4 frames, max_distance 15 px)\n");
    const TrackingRun d = run_trackers(dense, 3, "dense", sets);
    for (const std::string& t : d.order) {
        const auto& m = d.m.at(t);
        report(fmt::format("dense {}: alpha / JSCtheta / fragmentation", t),
               fmt::format("{:.3f} / {:.3f} / {:.2f}", m.at("alpha"), m.at("jsc_theta"), m.at("fragmentation")), "-", true);
    }
    for (const auto& [m, l] : {std::make_pair("magik", "lap"), std::make_pair("magik+gapfill", "lap+gapfill")}) {
        const double a_magik = d.m.at(m).at("alpha"), a_lap = d.m.at(l).at("alpha");
        report(fmt::format("dense: alpha {} - alpha {}", m, l), fmt::format("{:+.3f}", a_magik - a_lap), "> 0", a_magik > a_lap);
    }
    report("dense: link.magik edge recall / precision", fmt::format("{:.3f} / {:.3f}", d.edges.at("recall"), d.edges.at("precision")),
           "-", true);
    report("dense: link.magik linking time per movie", fmt::format("{:.2f} s", d.edges.at("seconds")), "-", true);
}

// classical.json's calcium branch on simulated two-channel movies, its
// transients scored against the simulator's events.
const char* kCalciumEval = R"({"spotflow_recipe": 1, "name": "bench_calcium", "inputs": {"movie": {}, "calcium": {}, "truth": {}, "events": {}},
  "nodes": [{"id": "read", "plugin": "read.tiff", "params": {"path": "${inputs.movie}"}},
            {"id": "read_calcium", "plugin": "read.tiff", "params": {"path": "${inputs.calcium}"}},
            {"id": "truth", "plugin": "read.tracks_csv", "params": {"path": "${inputs.truth}"}},
            {"id": "truth_events", "plugin": "read.csv", "params": {"path": "${inputs.events}"}},
            {"id": "detect", "plugin": "detect.wavelet"},
            {"id": "link", "plugin": "link.lap"},
            {"id": "gapfill", "plugin": "gapfill.fragments", "params": {"figure": "", "fill_gaps": "linear"}},
            {"id": "calcium", "plugin": "calcium.dff", "params": {"figure": ""}},
            {"id": "score", "plugin": "eval.events"},
            {"id": "write", "plugin": "write.csv", "params": {"file": "event_scores.csv"}}],
  "edges": [{"from": "read.movie", "to": "detect.movie"}, {"from": "detect.detections", "to": "link.detections"},
            {"from": "link.tracks", "to": "gapfill.tracks"}, {"from": "gapfill.tracks", "to": "calcium.tracks"},
            {"from": "read_calcium.movie", "to": "calcium.movie"}, {"from": "calcium.events", "to": "score.events"},
            {"from": "truth_events.table", "to": "score.truth_events"}, {"from": "truth.tracks", "to": "score.truth"},
            {"from": "score.metrics", "to": "write.table"}]})";

void bench_calcium() {
    fmt::print("Calcium transients (classical pipeline + calcium.dff, 3 two-channel seed movies)\n");
    const fs::path dir = simulate("calcium", 3, 2000, 100, true);
    const fs::path recipe = scratch() / "calcium_eval.json";
    std::ofstream(recipe) << kCalciumEval;
    double tp = 0, fp = 0, fn = 0, onset = 0;
    for (int k = 0; k < 3; ++k) {
        const fs::path s = dir / fmt::format("sample_{:03d}", k), out = scratch() / fmt::format("calcium-{}", k);
        must({spotflow(), "run", recipe.string(), "--input", "movie=" + (s / "movie.tif").string(), "--input",
              "calcium=" + (s / "calcium.tif").string(), "--input", "truth=" + (s / "ground_truth_tracks.csv").string(),
              "--input", "events=" + (s / "calcium_events.csv").string(), "--out", out.string(), "-q"});
        const auto row = bench::read_csv(out / "event_scores.csv").at(0);
        tp += std::stod(row.at("true_positives"));
        fp += std::stod(row.at("false_positives"));
        fn += std::stod(row.at("false_negatives"));
        onset += std::stod(row.at("mean_onset_error_frames")) / 3;
    }
    const double f1 = 2 * tp / (2 * tp + fp + fn);
    report("calcium event F1 (onset within 2 frames), pooled", fmt::format("{:.3f} ({:.0f} true events)", f1, tp + fn), "-",
           true);
    report("calcium event onset error, mean (frames)", fmt::format("{:+.2f}", onset), "-", true);
}

void bench_recipe_and_memory() {
    fmt::print("The classical recipe, and memory through detection\n");
    const fs::path sample = simulate("recipe", 1, 2000, 100) / "sample_000";
    const auto r = must({spotflow(), "run", std::string(SOURCE_DIR) + "/examples/recipes/classical.json", "--input",
                         "movie=" + (sample / "movie.tif").string(), "--out", (scratch() / "classical").string(), "-q"});
    report("classical.json on a 100-frame seed movie (whole CLI run)", fmt::format("{:.2f} s", r.seconds), "<= 2 s",
           r.seconds <= 2);

    const fs::path recipe = scratch() / "detect_only.json";
    std::ofstream(recipe) << R"({"spotflow_recipe": 1, "name": "detect_only", "inputs": {"movie": {}},
      "nodes": [{"id": "read", "plugin": "read.tiff", "params": {"path": "${inputs.movie}"}},
                {"id": "detect", "plugin": "detect.wavelet"},
                {"id": "write", "plugin": "write.csv", "params": {"file": "detections.csv"}}],
      "edges": [{"from": "read.movie", "to": "detect.movie"}, {"from": "detect.detections", "to": "write.table"}]})";
    long rss[2];
    const int frames[2] = {200, 2000};
    for (int k = 0; k < 2; ++k) {
        const fs::path m = simulate(fmt::format("mem{}", frames[k]), 1, 2000, frames[k]) / "sample_000" / "movie.tif";
        rss[k] = must({spotflow(), "run", recipe.string(), "--input", "movie=" + m.string(), "--out",
                       (scratch() / fmt::format("mem-out{}", k)).string(), "-q"})
                     .peak_rss_kib;
        report(fmt::format("peak memory, {} frames through detection", frames[k]), fmt::format("{} MiB", rss[k] / 1024), "-", true);
    }
    const double ratio = static_cast<double>(rss[1]) / static_cast<double>(rss[0]);
    report("peak memory ratio 2,000 / 200 frames", fmt::format("{:.2f}", ratio), "<= 1.3", ratio <= 1.3);
}


// ---- link.magik streaming: memory, the dim movie, time per frame (issue 13) --

// link.magik alone on `n` random walks per frame (constant density), 100
// frames, in process: wall and CPU seconds per frame.
struct PerFrame {
    double wall, cpu;
};
PerFrame magik_seconds_per_frame(int n) {
    PluginLibrary lib(plugin_path("spotflow_link_magik.so"));
    FakeHost host;
    host.plugin_dir = fs::path(plugin_path("spotflow_link_magik.so")).parent_path().string(); // its shipped weights
    const auto walks = random_walks(n, 100, 13);
    const auto params = spotflow::testing::params_with_defaults(lib.plugin("link.magik"), {{"max_detections_per_frame", 100000}});
    NodeRunner node(lib.plugin("link.magik"), host, params.dump());
    if (!node.created()) throw std::runtime_error("link.magik: create failed: " + host.error);
    const auto t0 = Clock::now();
    const double c0 = bench::process_cpu_seconds();
    if (node.process(0, walks->p) != SPOTFLOW_OK || node.finish() != SPOTFLOW_OK)
        throw std::runtime_error("link.magik failed: " + host.error);
    return {seconds_since(t0) / 100, (bench::process_cpu_seconds() - c0) / 100};
}

void bench_magik() {
    fmt::print("link.magik while the stream arrives (piezo1.json: detect.decode -> link.magik -> gap filling)\n");
    const std::string recipe = std::string(SOURCE_DIR) + "/examples/recipes/piezo1.json";
    long rss[2];
    const int frames[2] = {200, 2000};
    for (int k = 0; k < 2; ++k) {
        const fs::path m = simulate(fmt::format("magik{}", frames[k]), 1, 2000, frames[k]) / "sample_000" / "movie.tif";
        const auto r = must({spotflow(), "run", recipe, "--input", "movie=" + m.string(), "--out",
                             (scratch() / fmt::format("magik-out{}", k)).string(), "-q", "-j", "2"});
        rss[k] = r.peak_rss_kib;
        report(fmt::format("piezo1.json peak memory, {} seed-like frames", frames[k]),
               fmt::format("{} MiB, {:.1f} s", rss[k] / 1024, r.seconds), "-", true);
    }
    const double ratio = static_cast<double>(rss[1]) / static_cast<double>(rss[0]);
    report("piezo1.json peak memory ratio 2,000 / 200 frames", fmt::format("{:.2f}", ratio), "<= 1.2", ratio <= 1.2);

    // Issue 13's dim movie: DECODE emits ~1,600 false detections per frame.
    const fs::path dim = scratch() / "dim";
    must({spotflow(), "simulate", "--output", dim.string(), "--num_samples", "1", "--num_frames", "120", "--image_size", "192",
          "--num_tracks", "8", "--photons", "600", "--seed", "3", "-s", "psf_sigma_px=1.6", "-s", "background=40", "-s",
          "camera=emccd", "-s", "em_gain=100", "-s", "e_per_adu=20", "-s", "baseline_adu=100", "-s",
          "blink_off_probability=0.05", "-s", "mean_lifetime_frames=60", "-q"});
    const auto r = bench::run_child({spotflow(), "run", recipe, "--input", "movie=" + (dim / "sample_000" / "movie.tif").string(),
                                     "--out", (scratch() / "dim-out").string(), "-q", "-j", "2"});
    const bool guarded = r.exit_code != 0 && r.output.find("max_detections_per_frame") != std::string::npos;
    report(fmt::format("dim EMCCD movie through piezo1.json ({})", r.exit_code == 0 ? "linked" : guarded ? "stopped by the guard" : "FAILED"),
           fmt::format("{} MiB, {:.1f} s", r.peak_rss_kib / 1024, r.seconds), "<= 1 GB, 60 s",
           (r.exit_code == 0 || guarded) && r.peak_rss_kib <= 1024 * 1024 && r.seconds <= 60);
}

void bench_magik_per_frame() {
    fmt::print("link.magik time per frame at constant density (random walks, 100 frames, in process)\n");
    // CPU time is the measure of the ratio: wall time on a shared machine
    // also counts the other processes' turns. Both are printed.
    const PerFrame t10 = magik_seconds_per_frame(10), t100 = magik_seconds_per_frame(100), t1k = magik_seconds_per_frame(1000);
    for (const auto& [n, t] : {std::make_pair("10", t10), std::make_pair("100", t100), std::make_pair("1,000", t1k)})
        report(fmt::format("link.magik time per frame, {} detections/frame (CPU; wall)", n),
               fmt::format("{:.2f} ms; {:.2f} ms", 1e3 * t.cpu, 1e3 * t.wall), "-", true);
    report("link.magik CPU time ratio 1,000 / 100 per frame", fmt::format("{:.1f} (wall {:.1f})", t1k.cpu / t100.cpu, t1k.wall / t100.wall),
           "<= 15", t1k.cpu / t100.cpu <= 15);
}

} // namespace

int main(int argc, char** argv) {
    // `spotflow_bench [SECTION...]` runs only the named sections.
    const std::vector<std::pair<std::string, void (*)()>> sections = {
        {"simulation", bench_simulation}, {"detection", bench_detection}, {"linking", bench_linking},
        {"tracking", bench_tracking},     {"calcium", bench_calcium},
        {"recipe", bench_recipe_and_memory}, {"magik", bench_magik}, {"magik_per_frame", bench_magik_per_frame}};
    std::vector<std::string> wanted(argv + 1, argv + argc);
    for (const auto& w : wanted)
        if (std::none_of(sections.begin(), sections.end(), [&](const auto& s) { return s.first == w; })) {
            fmt::print(stderr, "spotflow_bench: unknown section '{}' (simulation, detection, linking, tracking, calcium, recipe, magik)\n", w);
            return 2;
        }
    fmt::print("spotflow benchmarks ({} hardware threads)\n\n", std::thread::hardware_concurrency());
    try {
        fs::create_directories(scratch());
        for (const auto& [name, run] : sections)
            if (wanted.empty() || std::find(wanted.begin(), wanted.end(), name) != wanted.end()) run();
        fs::remove_all(scratch());
    } catch (const std::exception& e) {
        fmt::print("benchmark failed: {}\n", e.what());
        return 1;
    }
    const auto missed = std::count_if(table.begin(), table.end(), [](const Row& r) { return !r.met; });
    fmt::print("\n{} measurements, {} targets missed\n", table.size(), missed);
    return 0;
}
