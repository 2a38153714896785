// The CLI's commands. Each returns the process exit code:
// 0 success, 1 a run that failed, 2 bad input (usage, recipe, files),
// 130 interrupted.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "recipe.hpp"
#include "spotflow/packet.h"

namespace spotflow::cli {

enum ExitCode { kOk = 0, kRunFailed = 1, kBadInput = 2, kInterrupted = 130 };

struct RecipeArgs {
    std::string recipe;
    std::vector<std::string> inputs; // NAME=PATH or PATH
    std::vector<std::string> sets;   // NODE.PARAM=VALUE
    std::optional<uint64_t> seed;
};

struct RunArgs : RecipeArgs {
    std::string out;
    int threads = 0; // 0: all cores
    bool quiet = false;
    bool verbose = false;
    bool force = false; // may replace files in --out that no earlier run there wrote
    std::vector<std::string> argv;
    // For callers other than the CLI (the Python package, through the
    // spotflow_cli library): no SIGINT handler is installed when false;
    // a failed run's error line goes to *failure, not stderr, when set;
    // capture sees every emitted packet (ExecuteOptions::capture).
    bool handle_signals = true;
    std::string* failure = nullptr;
    std::function<void(const std::string&, const std::string&, bool, const spotflow_packet&)> capture;
};

int run(const RunArgs& args);
// As run, for a recipe built in memory (args.recipe then only names it).
int run_recipe(const RunArgs& args, std::optional<Recipe> recipe);

struct SimulateArgs {
    std::string output;
    int num_samples = 200, num_tracks = 20, num_frames = 100;
    std::vector<int> image_size = {256}; // W, or W H (seed 001's form); must be square
    std::optional<int> num_puncta_mean;  // seed 001: Poisson mean of the track count per movie
    std::string psf_type = "gaussian";
    double photons = 2000;
    std::optional<uint64_t> seed;
    bool calcium = false;
    std::vector<std::string> sets; // more sim.dataset params: PARAM=VALUE
    int threads = 0;
    bool quiet = false;
    std::vector<std::string> argv;
};
int simulate(const SimulateArgs& args);

struct BatchArgs {
    std::string recipe, movies, out, profile;
    int jobs = 1, threads = 1;
    std::vector<std::string> sets;
    bool dry_run = false;
    bool print_only = false; // print the snakemake command line instead of running it
};
// The snakemake command line spotflow batch runs; throws UserError for its
// own bad arguments (missing recipe, dataset, profile).
std::vector<std::string> batch_command(const BatchArgs& args, const std::string& snakemake);
int batch(const BatchArgs& args);
int eval_dataset(const BatchArgs& args); // spotflow eval: the same per movie, no Snakemake
int validate(const RecipeArgs& args);
int graph(const RecipeArgs& args);
int plugins(bool json);
int describe(const std::string& id, bool json);
// What `plugins --json` and `describe --json` print (the Python package).
nlohmann::json plugins_json();
nlohmann::json describe_json(const std::string& id);

} // namespace spotflow::cli
