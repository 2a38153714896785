// run.json: what ran, with what, and how it ended, written beside the
// outputs of every run.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "executor.hpp"
#include "recipe.hpp"

namespace spotflow {

struct RunRecord {
    std::vector<std::string> command_line;
    std::string started_at; // ISO 8601, UTC
    int threads = 1;
    const ResolvedGraph* graph = nullptr;
    const ExecuteResult* result = nullptr;
    std::vector<std::string> outputs;   // the files the run leaves (a failed run: the published ones)
    std::vector<std::string> published; // outputs published mid-run (host->publish_output), in order
};

nlohmann::json make_run_json(const RunRecord& record);
std::string utc_now_iso8601();

} // namespace spotflow
