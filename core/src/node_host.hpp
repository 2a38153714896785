// The spotflow_host services table given to one node instance, and the
// run-wide state those services reach (cancellation, outputs, errors).
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "output_folder.hpp"
#include "plugin_registry.hpp"
#include "spotflow/host.h"

namespace spotflow {

struct NodeProgress;

// State shared by every node of one run.
struct RunState {
    const PluginRegistry* registry = nullptr;
    OutputFolder* outputs = nullptr;
    int threads = 1;
    const std::atomic<bool>* interrupt = nullptr;
    std::function<void(const std::string&, int32_t, const std::string&)> log;

    std::atomic<bool> cancelled{false};
    std::mutex mu;
    std::string error;       // the first failure wins
    std::string failed_node;
    bool interrupted = false;

    bool stopping() const { return cancelled.load() || (interrupt && interrupt->load()); }
    // Records the first failure and stops the run.
    void fail(const std::string& node, const std::string& message);
    void note_interrupt();
};

// One node's host table. `table` must stay the first member: the plugin
// gets &table and the services find the NodeHost from table.host_data.
struct NodeHost {
    spotflow_host table{};
    std::string node_id;
    RunState* run = nullptr;
    NodeProgress* progress = nullptr;
    uint64_t seed = 0;

    std::vector<std::vector<std::string>> input_sources; // per input port, per edge: "node.port"
    std::function<double(int32_t, int32_t)> branch_seconds; // set by the executor

    std::mutex mu;
    std::string error;             // last set_error message
    spotflow_status error_status = 0;
    // For run.json (guarded by mu): every WARNING-level log line, and what
    // the plugin gave to record().
    std::vector<std::string> warnings;
    nlohmann::json records = nlohmann::json::object();

    NodeHost(std::string id, RunState* run, NodeProgress* progress, uint64_t run_seed);
    NodeHost(const NodeHost&) = delete;
    NodeHost& operator=(const NodeHost&) = delete;

    // The message for a failing status: what the plugin said, or a generic
    // line if it said nothing.
    std::string failure_message(spotflow_status status, const char* during);
};

// splitmix64 of the run seed and the node id: independent, reproducible
// per-node streams.
uint64_t node_seed(uint64_t run_seed, const std::string& node_id);

const char* status_name(spotflow_status s);

} // namespace spotflow
