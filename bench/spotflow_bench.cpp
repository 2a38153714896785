// spotflow_bench: the speed and score targets of the classical pipeline,
// measured side by side in one run (the machine is shared and noisy, so
// ratios come from one process), printed as one table.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench_util.hpp"
#include "plugin_harness.hpp"

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

} // namespace

int main() {
    fmt::print("spotflow benchmarks ({} hardware threads)\n\n", std::thread::hardware_concurrency());
    try {
        bench_linking();
    } catch (const std::exception& e) {
        fmt::print("benchmark failed: {}\n", e.what());
        return 1;
    }
    const auto missed = std::count_if(table.begin(), table.end(), [](const Row& r) { return !r.met; });
    fmt::print("\n{} measurements, {} targets missed\n", table.size(), missed);
    return 0;
}
