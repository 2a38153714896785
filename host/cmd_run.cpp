// spotflow run / validate / graph: a recipe from file to result.
#include <unistd.h>

#include <csignal>
#include <fstream>

#include <fmt/format.h>

#include "commands.hpp"
#include "console.hpp"
#include "errors.hpp"
#include "executor.hpp"
#include "provenance.hpp"
#include "recipe.hpp"

namespace spotflow::cli {
namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_interrupt{false};

extern "C" void on_sigint(int) {
    if (g_interrupt.exchange(true)) std::_Exit(kInterrupted); // a second Ctrl-C: leave now
}

std::map<std::string, std::string> parse_inputs(const std::vector<std::string>& items) {
    std::map<std::string, std::string> out;
    for (const auto& item : items) {
        const auto eq = item.find('=');
        const std::string name = eq == std::string::npos ? "" : item.substr(0, eq);
        const std::string path = eq == std::string::npos ? item : item.substr(eq + 1);
        if (path.empty()) throw UserError(fmt::format("--input '{}': the path is empty", item));
        if (!out.emplace(name, path).second) throw UserError(fmt::format("--input '{}' is given twice", name));
    }
    return out;
}

void check_input_files(const ResolvedGraph& g) {
    for (const auto& [name, path] : g.inputs) {
        std::error_code ec;
        if (!fs::exists(path, ec)) throw UserError(fmt::format("input '{}': no such file '{}'", name, path));
        if (::access(path.c_str(), R_OK) != 0) throw UserError(fmt::format("input '{}': cannot read '{}': permission denied", name, path));
    }
}

struct Prepared {
    PluginRegistry registry;
    ResolvedGraph graph;
};

// `recipe` is read from args.recipe unless given (spotflow simulate builds
// its own). `check_only`: unbound inputs are listed, not errors (validate).
std::unique_ptr<Prepared> prepare(const RecipeArgs& args, std::optional<Recipe> given = std::nullopt,
                                  bool check_only = false) {
    auto p = std::make_unique<Prepared>();
    for (const auto& dir : default_plugin_folders()) p->registry.add_folder(dir);
    Recipe recipe = given ? std::move(*given) : load_recipe_file(args.recipe);
    for (const auto& s : args.sets) apply_override(recipe, s);
    ResolveOptions opt;
    opt.inputs = parse_inputs(args.inputs);
    opt.seed = args.seed;
    opt.defer_unbound = check_only;
    p->graph = resolve_recipe(recipe, p->registry, opt);
    return p;
}

void write_json_atomically(const fs::path& path, const nlohmann::json& j) {
    const fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".spotflow-partial");
    {
        std::ofstream out(tmp);
        out << j.dump(2) << "\n";
        if (!out) throw UserError(fmt::format("cannot write '{}'", path.string()));
    }
    fs::rename(tmp, path);
}

} // namespace

// Structure, params and wiring are checked whatever is bound; the inputs
// left to bind are listed, so a recipe can be checked before its data exist.
int validate(const RecipeArgs& args) {
    auto p = prepare(args, std::nullopt, /*check_only=*/true);
    const auto& g = p->graph;
    fmt::print("{}: ok ({} nodes, {} edges)\n", args.recipe, g.nodes.size(), g.edges.size());
    if (g.unbound.empty()) return kOk;
    fmt::print("inputs still to bind (spotflow run {} --input NAME=PATH ...):\n", args.recipe);
    for (const auto& u : g.unbound) {
        std::string used;
        for (const auto& n : u.nodes) used += (used.empty() ? "" : ", ") + n;
        fmt::print("  {} ({}{})\n", u.name, u.optional ? "optional: its nodes are skipped if unbound" : "required",
                   used.empty() ? "; no node uses it" : "; used by " + used);
    }
    return kOk;
}

int graph(const RecipeArgs& args) {
    auto p = prepare(args);
    const auto& g = p->graph;
    fmt::print("digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n", g.name);
    for (const auto& n : g.nodes) fmt::print("  \"{}\" [label=\"{}\\n{}\"];\n", n.id, n.id, n.plugin->desc->id);
    for (const auto& e : g.edges) {
        const auto& from = g.nodes[e.from.node];
        const auto& to = g.nodes[e.to.node];
        const auto& port = from.plugin->desc->outputs[e.from.port];
        fmt::print("  \"{}\" -> \"{}\" [label=\"{} → {}\\n({})\"];\n", from.id, to.id, port.name,
                   to.plugin->desc->inputs[e.to.port].name, port.type);
    }
    fmt::print("}}\n");
    return kOk;
}

int run(const RunArgs& args) { return run_recipe(args, std::nullopt); }

int run_recipe(const RunArgs& args, std::optional<Recipe> recipe) {
    auto p = prepare(args, std::move(recipe));
    const ResolvedGraph& g = p->graph;
    check_input_files(g);
    for (const auto& pr : p->registry.problems()) print_warning(fmt::format("skipped {}: {}", pr.path.string(), pr.reason));

    const fs::path out_dir = args.out.empty() ? fs::path("out") / g.name : fs::path(args.out);
    OutputFolder outputs(out_dir);

    const int threads = args.threads > 0 ? args.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    RunRecord record;
    record.command_line = args.argv;
    record.started_at = utc_now_iso8601();
    record.threads = threads;
    record.graph = &g;

    if (args.handle_signals) std::signal(SIGINT, on_sigint);
    ExecuteOptions opt;
    opt.threads = threads;
    opt.interrupt = args.handle_signals ? &g_interrupt : nullptr;
    opt.capture = args.capture;
    std::unique_ptr<ProgressDisplay> display;
    opt.log = [&display, &args](const std::string& node, int32_t level, const std::string& msg) {
        if (level == SPOTFLOW_LOG_DEBUG && !args.verbose) return;
        if (level < SPOTFLOW_LOG_WARNING && args.quiet) return;
        if (display) display->log(node, level, msg);
    };
    Executor executor(g, p->registry, outputs, opt);
    display = std::make_unique<ProgressDisplay>(executor.progress(), !args.quiet);
    const ExecuteResult result = executor.run();
    display.reset();
    if (args.handle_signals) std::signal(SIGINT, SIG_DFL);
    record.result = &result;

    record.published = outputs.published();
    if (result.status != ExecuteResult::Status::Ok) {
        // Unpublished outputs go; what a node published mid-run (a
        // checkpoint) was final when published and stays.
        outputs.rollback();
        record.outputs = record.published;
        write_json_atomically(out_dir / "run.json", make_run_json(record));
        const std::string kept = record.published.empty()
                                     ? "no output was kept"
                                     : fmt::format("only the {} published output(s) were kept", record.published.size());
        if (result.status == ExecuteResult::Status::Interrupted) {
            print_error(fmt::format("interrupted; {} (see run.json)", kept));
            return kInterrupted;
        }
        const std::string line = record.published.empty() ? result.error : fmt::format("{} ({}, see run.json)", result.error, kept);
        if (args.failure) *args.failure = line;
        else print_error(line);
        return kRunFailed;
    }

    record.outputs = outputs.commit();
    record.outputs.push_back("run.json");
    write_json_atomically(out_dir / "run.json", make_run_json(record));
    if (!args.quiet) {
        fmt::print("{}: done in {:.2f} s, {} outputs in {}\n", g.name, result.wall_seconds, record.outputs.size(),
                   out_dir.string());
        const size_t shown = record.outputs.size() > 12 ? 10 : record.outputs.size();
        for (size_t i = 0; i < shown; ++i) fmt::print("  {}\n", (out_dir / record.outputs[i]).string());
        if (shown < record.outputs.size()) fmt::print("  ... and {} more\n", record.outputs.size() - shown);
    }
    return kOk;
}

} // namespace spotflow::cli
