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

// SIGINT (Ctrl-C), SIGTERM (kill, timeout, batch schedulers) and SIGHUP (a
// closed terminal) all stop the run the same way: partial outputs removed.
constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};

void handle_stop_signals(bool on) {
    for (const int sig : kStopSignals) {
        struct sigaction sa {};
        sa.sa_handler = on ? on_sigint : SIG_DFL;
        sigemptyset(&sa.sa_mask);
        sigaction(sig, &sa, nullptr);
    }
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
        // A folder is an input of its own kind (read.image_set, read.coordinates
        // take one); the plugin says if it wanted a file.
        if (fs::is_directory(path, ec)) {
            if (::access(path.c_str(), R_OK | X_OK) != 0)
                throw UserError(fmt::format("input '{}': cannot read folder '{}': permission denied", name, path));
            continue;
        }
        // /dev/null, /dev/zero, a FIFO: no movie or table, and reading some
        // of them never ends.
        if (const std::string why = not_regular_file(path); !why.empty())
            throw UserError(fmt::format("input '{}': '{}': {}", name, path, why));
        if (::access(path.c_str(), R_OK) != 0) throw UserError(fmt::format("input '{}': cannot read '{}': permission denied", name, path));
        if (fs::file_size(path, ec) == 0 && !ec) throw UserError(fmt::format("input '{}': '{}' is empty", name, path));
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

bool earlier_run_succeeded(const fs::path& out_dir) {
    std::ifstream in(out_dir / kRunRecord);
    if (!in) return false;
    try {
        return nlohmann::json::parse(in).value("status", "") == "ok";
    } catch (const std::exception&) {
        return false;
    }
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
    OutputFolderOptions folder_options;
    folder_options.lock = true;
    folder_options.refuse_foreign = !args.force;
    for (const auto& [name, path] : g.inputs) folder_options.protect.emplace_back(path);
    if (!args.recipe.empty()) folder_options.protect.emplace_back(args.recipe);
    OutputFolder outputs(out_dir, folder_options);
    if (outputs.stale_removed() > 0)
        print_warning(fmt::format("removed {} temporary file(s) that an earlier, killed run left in '{}'",
                                  outputs.stale_removed(), out_dir.string()));

    const int threads = args.threads > 0 ? args.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    RunRecord record;
    record.command_line = args.argv;
    record.started_at = utc_now_iso8601();
    record.threads = threads;
    record.graph = &g;

    if (args.handle_signals) handle_stop_signals(true);
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
    record.result = &result;

    record.published = outputs.published();
    if (result.status != ExecuteResult::Status::Ok) {
        // Unpublished outputs go; what a node published mid-run (a
        // checkpoint) was final when published and stays.
        outputs.rollback();
        record.outputs = record.published;
        // The record of an earlier successful run stays: it still describes
        // the outputs in the folder. This run's goes beside it.
        const std::string record_name = earlier_run_succeeded(out_dir) && record.published.empty() ? kFailedRunRecord : kRunRecord;
        write_json_atomically(out_dir / record_name, make_run_json(record));
        if (args.handle_signals) handle_stop_signals(false);
        const std::string kept = record.published.empty()
                                     ? "no output was kept"
                                     : fmt::format("only the {} published output(s) were kept", record.published.size());
        if (result.status == ExecuteResult::Status::Interrupted) {
            const std::string line = fmt::format("interrupted; {} (see {})", kept, record_name);
            if (args.failure) *args.failure = line;
            else print_error(line);
            return kInterrupted;
        }
        const std::string line = record.published.empty() && record_name == kRunRecord
                                     ? result.error
                                     : fmt::format("{} ({}, see {})", result.error, kept, record_name);
        if (args.failure) *args.failure = line;
        else print_error(line);
        // A node that refused its params or files at create: bad input.
        return result.failed_at_create ? kBadInput : kRunFailed;
    }

    record.outputs = outputs.commit();
    record.outputs.push_back(kRunRecord);
    write_json_atomically(out_dir / kRunRecord, make_run_json(record));
    std::error_code ec;
    fs::remove(out_dir / kFailedRunRecord, ec); // an older failure's record no longer applies
    if (args.handle_signals) handle_stop_signals(false);
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
