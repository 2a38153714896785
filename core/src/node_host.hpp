// The spotflow_host services table given to one node instance, and the
// run-wide state those services reach (cancellation, outputs, errors).
#pragma once

#include <atomic>
#include <deque>
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

struct NodeHost;

// What a host table's host_data points to: the node whose services it
// reaches, and the plugin it was made for (the node's own, or a loss the
// node created), whose folder plugin_dir reports.
struct HostBinding {
    NodeHost* node = nullptr;
    const PluginInfo* plugin = nullptr;
};

// A host table with its binding, for a loss instance a node creates.
struct LossHost {
    spotflow_host table{};
    HostBinding binding;
};

// One node's host table. The plugin gets &table; the services find the
// NodeHost through table.host_data (a HostBinding).
struct NodeHost {
    spotflow_host table{};
    HostBinding binding;
    std::string node_id;
    RunState* run = nullptr;
    NodeProgress* progress = nullptr;
    uint64_t seed = 0;

    // Losses created through create_loss: their host tables (stable
    // addresses, alive until this NodeHost goes) and, for run.json, which
    // loss plugins this node used, in order of first use.
    std::mutex loss_mu;
    std::deque<LossHost> loss_hosts;
    std::vector<const PluginInfo*> losses_used;

    std::vector<std::vector<std::string>> input_sources; // per input port, per edge: "node.port"
    std::function<double(int32_t, int32_t)> branch_seconds; // set by the executor

    std::mutex mu;
    std::string error;             // last set_error message
    std::string output_refusal;    // why the host refused an output_path, if it did
    spotflow_status error_status = 0;
    // For run.json (guarded by mu): every WARNING-level log line, and what
    // the plugin gave to record().
    std::vector<std::string> warnings;
    nlohmann::json records = nlohmann::json::object();

    // `plugin` is the node's plugin (for plugin_dir); may be null in tests.
    NodeHost(std::string id, RunState* run, NodeProgress* progress, uint64_t run_seed,
             const PluginInfo* plugin = nullptr);
    NodeHost(const NodeHost&) = delete;
    NodeHost& operator=(const NodeHost&) = delete;

    // The message for a failing status: what the plugin said, or a generic
    // line if it said nothing.
    std::string failure_message(spotflow_status status, const char* during);
    // The loss plugins used so far. Thread-safe.
    std::vector<const PluginInfo*> losses();
};

// Fills every service of a host table bound to `binding`, and its ABI.
void fill_host_table(spotflow_host& table, HostBinding* binding);

// splitmix64 of the run seed and the node id: independent, reproducible
// per-node streams.
uint64_t node_seed(uint64_t run_seed, const std::string& node_id);

const char* status_name(spotflow_status s);

} // namespace spotflow
