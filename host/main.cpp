// spotflow: run microscopy analysis recipes made of plugins.
#include <cstdlib>
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "console.hpp"
#include "errors.hpp"
#include "version_info.hpp"

namespace {

// CLI11 reads "-1" into a uint64 as 2^64-1; a seed is a non-negative integer.
const CLI::Validator kSeed(
    [](std::string& s) { return s.empty() || s[0] == '-' ? std::string("a seed is a non-negative integer") : std::string(); },
    "SEED");

void add_recipe_options(CLI::App* cmd, spotflow::cli::RecipeArgs& a) {
    cmd->add_option("recipe", a.recipe, "Recipe file (JSON)")->required();
    cmd->add_option("-i,--input", a.inputs, "Bind a recipe input: NAME=PATH, or PATH when the recipe has one input");
    cmd->add_option("-s,--set", a.sets, "Override a parameter: NODE.PARAM=VALUE (VALUE as JSON, else a string)");
    cmd->add_option("--seed", a.seed, "Seed of the run (overrides the recipe's)")->check(kSeed);
}

} // namespace

int main(int argc, char** argv) {
    using namespace spotflow::cli;
    // LibTorch's OpenMP threads spin while they wait unless told otherwise;
    // on a shared or busy machine that made a training step 6x slower.
    // libgomp reads this when a plugin first loads it, so it must be set
    // before any plugin is opened. A value the user set wins.
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    CLI::App app{"spotflow: microscopy analysis recipes made of plugins", "spotflow"};
    app.set_version_flag("--version", fmt::format("spotflow {} (plugin ABI {}.{})", spotflow::kSpotflowVersion,
                                                  SPOTFLOW_ABI_MAJOR, SPOTFLOW_ABI_MINOR));
    app.require_subcommand(1);

    RunArgs run_args;
    auto* run_cmd = app.add_subcommand("run", "Run a recipe");
    add_recipe_options(run_cmd, run_args);
    run_cmd->add_option("-o,--out", run_args.out, "Output folder (default: out/<recipe name>)");
    run_cmd->add_option("-j,--threads", run_args.threads, "Threads to use (default: all cores)")->check(CLI::Range(1, 1024));
    run_cmd->add_flag("-q,--quiet", run_args.quiet, "No progress display and no summary");
    run_cmd->add_flag("-v,--verbose", run_args.verbose, "Show plugins' debug messages");
    run_cmd->add_flag("--force", run_args.force,
                      "Replace files in the output folder that no earlier run there wrote (never the run's inputs)");

    RecipeArgs check_args;
    auto* validate_cmd = app.add_subcommand("validate", "Check a recipe, its params and its wiring without running it");
    add_recipe_options(validate_cmd, check_args);

    RecipeArgs graph_args;
    auto* graph_cmd = app.add_subcommand("graph", "Print a recipe's graph in Graphviz DOT");
    add_recipe_options(graph_cmd, graph_args);

    bool plugins_json = false;
    auto* plugins_cmd = app.add_subcommand("plugins", "List the plugins found, with their ports and params");
    plugins_cmd->add_flag("--json", plugins_json, "Machine-readable output");

    SimulateArgs sim;
    auto* sim_cmd = app.add_subcommand("simulate", "Write a simulated TIRF dataset (sample_NNN/movie.tif + ground_truth_tracks.csv)");
    sim_cmd->add_option("--output,-o", sim.output, "Dataset folder")->required();
    sim_cmd->add_option("--num_samples", sim.num_samples, "Movies to simulate")->capture_default_str()->check(CLI::Range(1, 1000000));
    sim_cmd->add_option("--num_tracks", sim.num_tracks, "Puncta tracks per movie")->capture_default_str()->check(CLI::Range(0, 1000000));
    sim_cmd->add_option("--num_frames,--frames_per_sample", sim.num_frames, "Frames per movie")->capture_default_str()->check(CLI::Range(1, 10000000));
    sim_cmd->add_option("--image_size", sim.image_size, "Width and height in pixels (one value, or W H as in seed 001; square only)")
        ->capture_default_str()->expected(1, 2)->check(CLI::Range(8, 16384));
    sim_cmd->add_option("--num_puncta_mean", sim.num_puncta_mean,
                        "Seed 001's generator: each movie's track count is Poisson with this mean (instead of --num_tracks)")
        ->check(CLI::Range(0, 1000000));
    sim_cmd->add_option("--psf_type", sim.psf_type, "PSF model: gaussian (pixel-integrated), the one simulated")
        ->capture_default_str()->check(CLI::IsMember({"gaussian"}));
    sim_cmd->add_option("--photons", sim.photons, "Mean photons per punctum per frame")->capture_default_str()->check(CLI::PositiveNumber);
    sim_cmd->add_option("--seed", sim.seed, "Seed of the dataset (default 0); sample k is regenerated alone from (seed, k)")
        ->check(kSeed);
    sim_cmd->add_flag("--calcium", sim.calcium, "Also simulate the calcium channel and its events");
    sim_cmd->add_option("-s,--set", sim.sets, "Any other sim.dataset param: PARAM=VALUE (see spotflow describe sim.dataset)");
    sim_cmd->add_option("-j,--threads", sim.threads, "Threads to use (default: all cores)")->check(CLI::Range(1, 1024));
    sim_cmd->add_flag("-q,--quiet", sim.quiet, "No progress display and no summary");

    BatchArgs batch_args;
    auto* batch_cmd = app.add_subcommand(
        "batch",
        "Run a recipe over every movie of a folder or manifest CSV, then score the dataset. A thin front end: it runs "
        "Snakemake on workflows/Snakefile (one `spotflow run` per movie into OUT/<stem>/, then OUT/dataset_scores.csv, "
        "dataset_summary.csv, dataset_scores.png); re-running runs only new or changed movies. See docs/batch.md.");
    batch_cmd->add_option("recipe", batch_args.recipe, "Recipe file (JSON); each movie binds its one required input")->required();
    batch_cmd->add_option("movies", batch_args.movies,
                          "A folder of movies (*.tif, or NAME/movie.tif as spotflow simulate writes) or a manifest CSV "
                          "(columns movie, and optionally calcium, truth, stem)")->required();
    batch_cmd->add_option("-o,--out", batch_args.out, "Output folder")->required();
    batch_cmd->add_option("--jobs", batch_args.jobs, "Movies at once (Snakemake --jobs)")->capture_default_str()->check(CLI::Range(1, 100000));
    batch_cmd->add_option("--threads", batch_args.threads, "Threads per movie")->capture_default_str()->check(CLI::Range(1, 1024));
    batch_cmd->add_option("--profile", batch_args.profile,
                          "A Snakemake profile: a name under workflows/profiles (slurm) or a folder with config.yaml");
    batch_cmd->add_option("-s,--set", batch_args.sets, "Override a parameter of the recipe for every movie: NODE.PARAM=VALUE");
    batch_cmd->add_flag("-n,--dry-run", batch_args.dry_run, "Show what would run (Snakemake --dry-run)");
    batch_cmd->add_flag("--print-command", batch_args.print_only, "Print the snakemake command line and exit");

    BatchArgs eval_args;
    auto* eval_cmd = app.add_subcommand(
        "eval",
        "Run a recipe over a small dataset one movie after the other and score it (the tables of spotflow batch, "
        "without Snakemake: no incremental re-runs, no cluster)");
    eval_cmd->add_option("recipe", eval_args.recipe, "Recipe file (JSON); each movie binds its one required input")->required();
    eval_cmd->add_option("movies", eval_args.movies, "A folder of movies or a manifest CSV (as spotflow batch)")->required();
    eval_cmd->add_option("-o,--out", eval_args.out, "Output folder")->required();
    eval_cmd->add_option("--threads", eval_args.threads, "Threads per movie")->capture_default_str()->check(CLI::Range(1, 1024));
    eval_cmd->add_option("-s,--set", eval_args.sets, "Override a parameter of the recipe for every movie: NODE.PARAM=VALUE");
    eval_cmd->add_flag("--print-command", eval_args.print_only, "Print the command line it runs and exit");

    std::string describe_id;
    bool describe_json = false;
    auto* describe_cmd = app.add_subcommand("describe", "Show one plugin: ports, params, defaults");
    describe_cmd->add_option("plugin", describe_id, "Plugin id, e.g. read.tiff")->required();
    describe_cmd->add_flag("--json", describe_json, "Machine-readable output (includes the params JSON Schema)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        print_error(fmt::format("{} (see spotflow --help)", e.what()));
        return kBadInput;
    }

    try {
        if (*run_cmd) {
            run_args.argv.assign(argv, argv + argc);
            return run(run_args);
        }
        if (*validate_cmd) return validate(check_args);
        if (*sim_cmd) {
            sim.argv.assign(argv, argv + argc);
            return simulate(sim);
        }
        if (*batch_cmd) return batch(batch_args);
        if (*eval_cmd) return eval_dataset(eval_args);
        if (*graph_cmd) return graph(graph_args);
        if (*plugins_cmd) return plugins(plugins_json);
        if (*describe_cmd) return describe(describe_id, describe_json);
    } catch (const spotflow::UserErrors& e) {
        for (const auto& line : e.all()) print_error(line);
        return kBadInput;
    } catch (const spotflow::UserError& e) {
        print_error(e.what());
        return kBadInput;
    } catch (const std::exception& e) {
        print_error(fmt::format("internal error: {}", e.what()));
        return kRunFailed;
    }
    return kBadInput;
}
