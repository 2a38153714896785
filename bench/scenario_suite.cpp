// scenario_suite: every detector x linker pair on every regime of the
// scenario suite (bench/scenarios.cpp), one `spotflow run` each, a table on
// stdout and the figures as JSON and CSV. `make bench` runs it after the
// other benches; the tests run a --quick subset.
#include <unistd.h>

#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench_util.hpp"
#include "scenarios.hpp"

namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_list(const std::vector<std::string>& args) {
    std::vector<std::string> out;
    for (const auto& a : args) {
        std::string item;
        for (const char c : a + ",") {
            if (c == ',') {
                if (!item.empty()) out.push_back(item);
                item.clear();
            } else if (c != ' ') {
                item += c;
            }
        }
    }
    return out;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"The scenario suite: every detector x linker pair on sim.tirf regimes, scored by eval.detections and eval.tracks"};
    suite::Options o;
    std::vector<std::string> scenarios, detectors, linkers;
    std::string out = "out/scenario_suite", spotflow = SPOTFLOW_BIN;
    bool list = false;
    app.add_flag("--quick", o.quick, "Short movies (the tests' subset): each regime's quick frame count");
    app.add_option("--scenario", scenarios, "Regimes to run (comma-separated or repeated); default all");
    app.add_option("--detectors", detectors, "Detectors (detect.wavelet, detect.decode); default every one built");
    app.add_option("--linkers", linkers, "Linkers (link.lap, link.nearest, link.magik); default every one built");
    app.add_option("--out", out, "Folder for scenario_suite.json and scenario_suite.csv")->capture_default_str();
    app.add_option("--spotflow", spotflow, "The spotflow CLI")->capture_default_str();
    app.add_option("--threads", o.threads, "--threads of each run (0: the CLI's default, all cores)");
    app.add_option("--timeout", o.timeout_s, "Seconds a run may take before it is killed and reported failed")
        ->capture_default_str();
    app.add_option("--max-rss-mib", o.max_rss_mib, "Resident memory (MiB) a run may reach before it is killed and reported failed")
        ->capture_default_str();
    app.add_flag("--keep", o.keep, "Keep every run's recipe and output folder (printed at the end)");
    app.add_flag("--list", list, "Print the regimes and exit");
    CLI11_PARSE(app, argc, argv);

    if (list) {
        for (const auto& s : suite::scenarios()) fmt::print("{:<14} {}\n", s.name, s.what);
        return 0;
    }
    o.scenarios = split_list(scenarios), o.detectors = split_list(detectors), o.linkers = split_list(linkers);
    o.spotflow = spotflow;
    o.work = fs::temp_directory_path() / fmt::format("spotflow-suite-{}", ::getpid());
    if (!fs::exists(o.spotflow)) {
        fmt::print(stderr, "scenario_suite: --spotflow: no such file '{}'\n", spotflow);
        return 2;
    }
    try {
        const auto chosen = suite::select_scenarios(o);
        fmt::print("Scenario suite{}: {} regimes, runs in {}\n", o.quick ? " (quick)" : "", chosen.size(), o.work.string());
        std::fflush(stdout);
        const auto t0 = bench::Clock::now();
        const auto results = suite::run(o, std::cout);
        const double wall = bench::seconds_since(t0);
        suite::print_table(chosen, results, std::cout);
        fs::create_directories(out);
        auto j = suite::to_json(chosen, results, o);
        j["wall_seconds"] = wall;
        std::ofstream(fs::path(out) / "scenario_suite.json") << j.dump(2) << "\n";
        std::ofstream(fs::path(out) / "scenario_suite.csv") << suite::to_csv(results);
        int failed = 0;
        for (const auto& r : results) failed += !r.ok;
        fmt::print("\n{} runs, {} failed, {:.0f} s; wrote {}/scenario_suite.json and .csv{}\n", results.size(), failed, wall, out,
                   o.keep ? ", kept " + o.work.string() : "");
        return failed ? 1 : 0;
    } catch (const std::exception& e) {
        fmt::print(stderr, "scenario_suite: {}\n", e.what());
        return 2;
    }
}
