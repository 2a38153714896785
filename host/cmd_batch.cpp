// spotflow batch: a recipe over a folder or manifest of movies. A thin front
// end: it checks its own arguments and runs Snakemake on workflows/Snakefile,
// which does everything else (one `spotflow run` per movie, the dataset
// tables, incremental re-runs, the SLURM profile). It writes nothing itself.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "commands.hpp"
#include "errors.hpp"

extern char** environ;

namespace spotflow::cli {
namespace fs = std::filesystem;

namespace {

fs::path self_path() {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : exe;
}

// $SPOTFLOW_WORKFLOWS, the installed share/spotflow/workflows next to the
// executable, then the source tree this binary was built from.
fs::path workflow_dir() {
    std::vector<fs::path> candidates;
    if (const char* env = std::getenv("SPOTFLOW_WORKFLOWS")) candidates.emplace_back(env);
    if (const fs::path exe = self_path(); !exe.empty())
        candidates.push_back(exe.parent_path() / ".." / "share" / "spotflow" / "workflows");
    candidates.emplace_back(SPOTFLOW_SOURCE_WORKFLOWS);
    for (const auto& c : candidates) {
        std::error_code ec;
        if (fs::is_regular_file(c / "Snakefile", ec)) return c.lexically_normal();
    }
    throw UserError(fmt::format("cannot find workflows/Snakefile (looked in {}; set SPOTFLOW_WORKFLOWS)",
                                candidates.back().string()));
}

std::string find_on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string p = path ? path : "/usr/bin:/bin";
    size_t start = 0;
    while (start <= p.size()) {
        const size_t end = p.find(':', start);
        const std::string dir = p.substr(start, end == std::string::npos ? std::string::npos : end - start);
        const fs::path cand = fs::path(dir.empty() ? "." : dir) / name;
        if (::access(cand.c_str(), X_OK) == 0) return cand.string();
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return "";
}

} // namespace

std::vector<std::string> batch_command(const BatchArgs& a, const std::string& snakemake) {
    std::error_code ec;
    if (!fs::is_regular_file(a.recipe, ec)) throw UserError(fmt::format("recipe '{}': no such file", a.recipe));
    if (!fs::exists(a.movies, ec)) throw UserError(fmt::format("'{}': no such folder or manifest", a.movies));
    const fs::path wf = workflow_dir();
    std::vector<std::string> cmd = {snakemake, "--snakefile", (wf / "Snakefile").string()};
    if (!a.profile.empty()) {
        // A name (workflows/profiles/NAME) or a folder holding config.yaml.
        fs::path prof = a.profile.find('/') == std::string::npos ? wf / "profiles" / a.profile : fs::path(a.profile);
        if (!fs::is_regular_file(prof / "config.yaml", ec)) {
            std::vector<std::string> names;
            for (const auto& e : fs::directory_iterator(wf / "profiles", ec))
                if (fs::is_regular_file(e.path() / "config.yaml")) names.push_back(e.path().filename().string());
            std::sort(names.begin(), names.end());
            std::string known;
            for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
            throw UserError(fmt::format("profile '{}': no such profile ({} has no config.yaml; known: {})", a.profile,
                                        prof.string(), known.empty() ? "none" : known));
        }
        cmd.insert(cmd.end(), {"--profile", fs::absolute(prof).string()});
    }
    // Locally: jobs movies at once of `threads` cores each. On a cluster
    // --cores bounds only the local rules and a job's threads (Snakemake
    // caps threads at --cores), so it is given there too.
    cmd.insert(cmd.end(), {"--cores", std::to_string(a.jobs * a.threads), "--jobs", std::to_string(a.jobs)});
    const fs::path out = fs::absolute(a.out);
    fs::create_directories(out, ec);
    if (ec) throw UserError(fmt::format("--out '{}': cannot create the folder: {}", a.out, ec.message()));
    cmd.insert(cmd.end(), {"--directory", out.string(), "--keep-going", "--rerun-incomplete", "--printshellcmds"});
    if (a.dry_run) cmd.push_back("--dry-run");
    cmd.insert(cmd.end(), {"--config", "recipe=" + fs::absolute(a.recipe).string(),
                           "movies=" + fs::absolute(a.movies).string(), "out=" + out.string(),
                           "spotflow=" + self_path().string(), "threads=" + std::to_string(a.threads)});
    if (!a.sets.empty()) {
        // Snakemake's --config VALUE is YAML: a flow list of quoted strings.
        std::string list = "set=[";
        for (size_t i = 0; i < a.sets.size(); ++i) {
            std::string q;
            for (const char c : a.sets[i]) q += c == '\'' ? std::string("''") : std::string(1, c);
            list += (i ? "," : "") + ("'" + q + "'");
        }
        cmd.push_back(list + "]");
    }
    return cmd;
}

namespace {

// Runs cmd (argv[0] a path) and waits; Ctrl-C goes to the child, which
// stops its own work.
int run_child(const std::vector<std::string>& cmd) {
    std::vector<char*> argv;
    for (const auto& arg : cmd) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    // Snakemake handles Ctrl-C itself (it stops its jobs); we wait for it.
    struct sigaction ignore {}, old_int {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGINT, &ignore, &old_int);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT); // an ignored signal would stay ignored in the child
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, argv[0], nullptr, &attr, argv.data(), environ);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        sigaction(SIGINT, &old_int, nullptr);
        throw UserError(fmt::format("cannot start {}: {}", argv[0], std::strerror(rc)));
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    sigaction(SIGINT, &old_int, nullptr);
    if (WIFEXITED(status)) return WEXITSTATUS(status) == 0 ? kOk : WEXITSTATUS(status) == kBadInput ? kBadInput : kRunFailed;
    return kInterrupted;
}

void print_command(const std::vector<std::string>& cmd) {
    for (size_t i = 0; i < cmd.size(); ++i) fmt::print("{}{}", i ? " " : "", cmd[i]);
    fmt::print("\n");
}

} // namespace

int batch(const BatchArgs& a) {
    const std::string snakemake = find_on_path("snakemake");
    if (snakemake.empty()) throw UserError("spotflow batch runs Snakemake, which is not on PATH (Debian: apt-get install snakemake)");
    std::error_code ec;
    const bool out_existed = fs::exists(a.out, ec);
    const auto cmd = batch_command(a, snakemake);
    if (a.print_only) {
        print_command(cmd);
        if (!out_existed) fs::remove(fs::absolute(a.out), ec); // the empty folder batch_command made
        return kOk;
    }
    const int rc = run_child(cmd);
    // Bad input (the Snakefile's one error line, exit 2) stops before any
    // job: a folder this run created holds only Snakemake's .snakemake/, so
    // no partial output is left.
    if (rc == kBadInput && !out_existed) fs::remove_all(fs::absolute(a.out), ec);
    return rc;
}

// The small-set evaluation: workflows/scripts/eval_dataset.py, the movies
// one after the other with the workflow's own per-movie and aggregate steps.
int eval_dataset(const BatchArgs& a) {
    std::error_code ec;
    if (!fs::is_regular_file(a.recipe, ec)) throw UserError(fmt::format("recipe '{}': no such file", a.recipe));
    // Debian's interpreter has Debian's numpy and matplotlib; a pyenv or
    // venv python3 first on PATH may not.
    std::string python = ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : find_on_path("python3");
    if (python.empty()) throw UserError("spotflow eval needs python3 (Debian: python3-numpy python3-matplotlib)");
    std::vector<std::string> cmd = {python, (workflow_dir() / "scripts" / "eval_dataset.py").string(), a.recipe, a.movies,
                                    "--out", a.out, "--spotflow", self_path().string(), "--threads", std::to_string(a.threads)};
    for (const auto& s : a.sets) cmd.insert(cmd.end(), {"--set", s});
    if (a.print_only) {
        print_command(cmd);
        return kOk;
    }
    return run_child(cmd);
}

} // namespace spotflow::cli
