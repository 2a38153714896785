// The scenario suite (issue 12): named regimes that sim.tirf makes, each run
// through every detector x linker pair by the CLI, scored by eval.detections
// and eval.tracks. Every figure is read from the evaluators' output files,
// so the suite computes no metric of its own (docs/metrics.md defines them).
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace suite {

struct Scenario {
    std::string name;
    std::string what;      // one line for the table: camera, photons, PSF, density, motion, frames
    nlohmann::json sim;    // sim.tirf params over its defaults (seed and num_frames included)
    int64_t quick_frames;  // num_frames under --quick
};

// The regimes, in the order the table prints them. Pure; any thread.
const std::vector<Scenario>& scenarios();

// The pairs the suite knows, in table order.
const std::vector<std::string>& known_detectors();
const std::vector<std::string>& known_linkers();

struct Options {
    bool quick = false;
    std::vector<std::string> scenarios; // empty: all
    std::vector<std::string> detectors; // empty: all known that are built
    std::vector<std::string> linkers;   // empty: all known that are built
    std::filesystem::path spotflow;     // the CLI
    std::filesystem::path work;         // scratch folder for recipes and runs (removed unless keep)
    bool keep = false;
    int threads = 0;                    // --threads of each run; 0: the CLI's default
    double timeout_s = 1800;            // per run; a run past it is killed and reported failed
    long max_rss_mib = 3072;            // per run, the same (a linker flooded with false detections)
};

// One scenario x detector x linker. Optional figures are absent when the
// evaluator wrote null (e.g. no matched emitter in a class).
struct PairResult {
    std::string scenario, detector, linker;
    bool ok = false;
    std::string error;  // the run's first error line when !ok
    // eval.detections (evaluation_summary.json)
    int64_t truth = 0, detections = 0;
    double precision = 0, recall = 0, f1 = 0;
    std::optional<double> crlb_px, rmse_over_crlb;         // per axis, over matched emitters
    std::optional<double> ratio_isolated, ratio_neighbouring; // RMSE/CRLB per neighbourhood class
    int64_t truth_isolated = 0, truth_neighbouring = 0, truth_close = 0;
    std::optional<double> recall_neighbouring;
    // eval.tracks (its metrics table): the pipeline as shipped (linker, then
    // gapfill.fragments with fill_gaps linear) and the linker alone
    std::optional<double> alpha, beta, jsc_theta, fragmentation, alpha_linker_only, fragmentation_linker_only;
    // run.json busy seconds (the linkers run in parallel branches of one run)
    double simulate_s = 0, detect_s = 0, link_s = 0, run_s = 0;
};

// Checks the options (unknown scenario or plugin names, an empty selection)
// and returns the selected scenarios; throws std::invalid_argument with one
// line naming the bad option.
std::vector<Scenario> select_scenarios(const Options& o);

// Which of `wanted` (or, when empty, of `known`) the CLI can describe, i.e.
// are built; names outside `known` are an error naming the option.
std::vector<std::string> available(const Options& o, const std::vector<std::string>& wanted,
                                   const std::vector<std::string>& known, const char* option);

// The recipe of one detector and several linkers on one scenario: the
// detections fan out to every linker, each followed by gapfill.fragments;
// eval.tracks scores each linker with ("<linker>") and without
// ("<linker>/alone") the gap filler. Exposed for the tests.
nlohmann::json recipe(const Scenario& s, const std::string& detector, const std::vector<std::string>& linkers, bool quick);

// Runs every selected pair on every selected scenario: one CLI run per
// scenario x detector (the movie simulated and detected once), and, when
// that run fails, one per pair, so a failing pair is named and the others
// still scored. Logs progress to `log`. A failed run is a result with
// ok = false, not an exception. Single-threaded; one child process at a time.
std::vector<PairResult> run(const Options& o, std::ostream& log);

// The table on stdout, and the files.
void print_table(const std::vector<Scenario>& scenarios, const std::vector<PairResult>& results, std::ostream& out);
nlohmann::json to_json(const std::vector<Scenario>& scenarios, const std::vector<PairResult>& results, const Options& o);
std::string to_csv(const std::vector<PairResult>& results);

} // namespace suite
