// Runs a resolved recipe on a oneTBB flow graph.
//
// Each node is a serial flow-graph node fed by its own FIFO mailbox, so a
// plugin instance is never called concurrently and sees each input port's
// packets in stream order, while different nodes (independent branches, and
// successive stages of a stream) run in parallel. Sources are pulled only
// while they hold a token: each pull takes one and gets it back when every
// packet it emitted has been consumed downstream, which bounds the chunks in
// flight (token-based backpressure, as in oneTBB's guide).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "output_folder.hpp"
#include "plugin_registry.hpp"
#include "recipe.hpp"

namespace spotflow {

struct NodeProgress {
    std::string id;
    std::atomic<int64_t> done{0};
    std::atomic<int64_t> total{0};
    std::atomic<bool> finished{false};
};

struct ExecuteOptions {
    int threads = 1;
    size_t tokens_per_source = 0; // 0: 2 x threads + 1
    const std::atomic<bool>* interrupt = nullptr; // set by a SIGINT handler
    // Plugin log lines, already prefixed with nothing: (node id, level, message).
    std::function<void(const std::string&, int32_t, const std::string&)> log;
    // Sees every packet a node emits, (node id, output port name, whether an
    // edge consumes the port, packet),
    // on the emitting thread before any consumer does; may run on several
    // threads at once. The packet is borrowed for the call: what the
    // callback keeps, it copies (plugins' buffers are released before their
    // instances are destroyed). The Python package collects outputs with it.
    std::function<void(const std::string&, const std::string&, bool, const spotflow_packet&)> capture;
};

struct NodeReport {
    std::string id;
    std::string plugin;
    double busy_seconds = 0;   // time inside the plugin's calls
    double wall_seconds = 0;   // first call to last return
    int64_t packets_in = 0;
    int64_t packets_out = 0;
    size_t max_chunks_in_flight = 0; // sources: the most tokens taken at once
    std::vector<std::string> warnings; // the node's WARNING log lines
    nlohmann::json records = nlohmann::json::object(); // what it gave to host->record
};

// A loss plugin a node created through create_loss (for run.json).
struct LossUse {
    std::string node;
    const PluginInfo* plugin = nullptr;
};

struct ExecuteResult {
    enum class Status { Ok, Failed, Interrupted } status = Status::Ok;
    std::string error;       // one line, naming the node
    std::string failed_node;
    // The failure came from a node's create: its params or input files were
    // refused before any data flowed (the CLI's "bad input", exit 2).
    bool failed_at_create = false;
    std::vector<NodeReport> nodes;
    std::vector<LossUse> losses; // by node, in order of first use
    double wall_seconds = 0;
};

class Executor {
public:
    Executor(const ResolvedGraph& graph, const PluginRegistry& registry, OutputFolder& outputs, ExecuteOptions options);
    ~Executor();
    Executor(const Executor&) = delete;
    Executor& operator=(const Executor&) = delete;

    // One entry per node, for a progress display polled from another thread.
    const std::vector<std::unique_ptr<NodeProgress>>& progress() const;

    // Creates every instance (errors here stop the run before data flows),
    // runs the graph to the end or the first error, destroys the instances.
    ExecuteResult run();

    struct Impl; // executor.cpp

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace spotflow
