// The CLI's commands. Each returns the process exit code:
// 0 success, 1 a run that failed, 2 bad input (usage, recipe, files),
// 130 interrupted.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

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
    std::vector<std::string> argv;
};

int run(const RunArgs& args);
int validate(const RecipeArgs& args);
int graph(const RecipeArgs& args);
int plugins(bool json);
int describe(const std::string& id, bool json);

} // namespace spotflow::cli
