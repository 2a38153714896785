#include "node_host.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "errors.hpp"
#include "executor.hpp"

namespace spotflow {

void RunState::fail(const std::string& node, const std::string& message) {
    {
        std::lock_guard<std::mutex> lock(mu);
        if (error.empty()) {
            error = message;
            failed_node = node;
        }
    }
    cancelled = true;
}

void RunState::note_interrupt() {
    std::lock_guard<std::mutex> lock(mu);
    if (error.empty()) {
        interrupted = true;
        error = "interrupted";
    }
    cancelled = true;
}

uint64_t node_seed(uint64_t run_seed, const std::string& node_id) {
    uint64_t h = 1469598103934665603ull; // FNV-1a of the id
    for (unsigned char c : node_id) h = (h ^ c) * 1099511628211ull;
    uint64_t z = run_seed + 0x9e3779b97f4a7c15ull * (h | 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

const char* status_name(spotflow_status s) {
    switch (s) {
    case SPOTFLOW_OK: return "ok";
    case SPOTFLOW_DONE: return "done";
    case SPOTFLOW_ERR_INVALID_ARGUMENT: return "invalid argument";
    case SPOTFLOW_ERR_IO: return "I/O error";
    case SPOTFLOW_ERR_FORMAT: return "bad format";
    case SPOTFLOW_ERR_UNSUPPORTED: return "unsupported";
    case SPOTFLOW_ERR_OUT_OF_MEMORY: return "out of memory";
    case SPOTFLOW_ERR_CANCELLED: return "cancelled";
    case SPOTFLOW_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

namespace {

const HostBinding& binding(const spotflow_host* h) { return *static_cast<const HostBinding*>(h->host_data); }
NodeHost& self(const spotflow_host* h) { return *binding(h).node; }

void svc_log(const spotflow_host* h, spotflow_log_level level, const char* message) {
    auto& n = self(h);
    if (level == SPOTFLOW_LOG_WARNING) { // run.json carries the warnings
        std::lock_guard<std::mutex> lock(n.mu);
        n.warnings.emplace_back(message ? message : "");
    }
    if (n.run->log) n.run->log(n.node_id, level, message ? message : "");
}

void svc_record(const spotflow_host* h, const char* key, const char* json_value) {
    if (!key) return;
    auto& n = self(h);
    const std::string text = json_value ? json_value : "null";
    nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) value = text;
    std::lock_guard<std::mutex> lock(n.mu);
    n.records[key] = std::move(value);
}

void svc_progress(const spotflow_host* h, int64_t done, int64_t total) {
    auto& n = self(h);
    if (!n.progress) return;
    n.progress->done = done;
    n.progress->total = total;
}

int32_t svc_is_cancelled(const spotflow_host* h) { return self(h).run->stopping() ? 1 : 0; }

void svc_set_error(const spotflow_host* h, spotflow_status status, const char* message) {
    auto& n = self(h);
    std::lock_guard<std::mutex> lock(n.mu);
    n.error = message ? message : "";
    // One line: a plugin's multi-line message is folded.
    for (auto& c : n.error)
        if (c == '\n' || c == '\r') c = ' ';
    n.error_status = status;
}

spotflow_status svc_output_path(const spotflow_host* h, const char* name, char* buf, size_t size) {
    auto& n = self(h);
    if (!name || !buf) return SPOTFLOW_ERR_INVALID_ARGUMENT;
    try {
        const std::string p = n.run->outputs->claim(name, n.node_id).string();
        if (p.size() + 1 > size) {
            svc_set_error(h, SPOTFLOW_ERR_IO, fmt::format("output path for '{}' needs {} bytes", name, p.size() + 1).c_str());
            return SPOTFLOW_ERR_IO;
        }
        std::memcpy(buf, p.c_str(), p.size() + 1);
        return SPOTFLOW_OK;
    } catch (const std::exception& e) {
        svc_set_error(h, SPOTFLOW_ERR_INVALID_ARGUMENT, e.what());
        {
            std::lock_guard<std::mutex> lock(n.mu);
            if (n.output_refusal.empty()) n.output_refusal = e.what();
        }
        return SPOTFLOW_ERR_INVALID_ARGUMENT;
    }
}

int32_t svc_threads(const spotflow_host* h) { return self(h).run->threads; }
uint64_t svc_seed(const spotflow_host* h) { return self(h).seed; }

spotflow_status svc_create_loss(const spotflow_host* h, const char* plugin_id, const char* params_json,
                                spotflow_loss_instance* out) {
    auto& n = self(h);
    try {
        if (!plugin_id || !out) throw UserError("create_loss: plugin id and out must be set");
        const PluginInfo* info = n.run->registry->find(plugin_id);
        if (!info) throw UserError(fmt::format("unknown loss plugin '{}'", plugin_id));
        if (!info->is_loss()) throw UserError(fmt::format("plugin '{}' is not a loss (kind {})", plugin_id, info->desc->kind));
        nlohmann::json params = params_json && *params_json ? nlohmann::json::parse(params_json) : nlohmann::json::object();
        info->params_schema->fill_defaults(params);
        const auto errors = info->params_schema->validate(params);
        if (!errors.empty())
            throw UserError(fmt::format("loss '{}' params: {}: {}", plugin_id, errors.front().pointer, errors.front().message));
        // The loss gets a table of its own, so that its plugin_dir is its
        // own library's folder; everything else reaches this node.
        LossHost* lh = nullptr;
        {
            std::lock_guard<std::mutex> lock(n.loss_mu);
            lh = &n.loss_hosts.emplace_back();
            lh->binding = {&n, info};
            fill_host_table(lh->table, &lh->binding);
            if (std::find(n.losses_used.begin(), n.losses_used.end(), info) == n.losses_used.end())
                n.losses_used.push_back(info);
        }
        void* loss = info->desc->loss->create(&lh->table, params.dump().c_str());
        if (!loss) return n.error_status ? n.error_status : SPOTFLOW_ERR_INVALID_ARGUMENT;
        // The host's copy, widened: a 1.0 loss's table is shorter than this
        // header's, and a trainer must find NULL, not garbage, past its end.
        out->loss = info->loss_vtable.get();
        out->self = loss;
        // The abi member exists only in a 1.1 caller's struct: a 1.0
        // trainer's spotflow_loss_instance ends before it.
        const PluginInfo* caller = binding(h).plugin;
        if (caller && caller->abi.minor >= 1) out->abi = info->abi;
        return SPOTFLOW_OK;
    } catch (const std::exception& e) {
        svc_set_error(h, SPOTFLOW_ERR_INVALID_ARGUMENT, e.what());
        return SPOTFLOW_ERR_INVALID_ARGUMENT;
    }
}

int32_t svc_input_count(const spotflow_host* h, int32_t port) {
    const auto& s = self(h).input_sources;
    return port >= 0 && static_cast<size_t>(port) < s.size() ? static_cast<int32_t>(s[static_cast<size_t>(port)].size()) : 0;
}

const char* svc_input_source(const spotflow_host* h, int32_t port, int32_t edge) {
    const auto& s = self(h).input_sources;
    if (port < 0 || static_cast<size_t>(port) >= s.size()) return nullptr;
    const auto& edges = s[static_cast<size_t>(port)];
    return edge >= 0 && static_cast<size_t>(edge) < edges.size() ? edges[static_cast<size_t>(edge)].c_str() : nullptr;
}

double svc_branch_seconds(const spotflow_host* h, int32_t port, int32_t edge) {
    const auto& n = self(h);
    return n.branch_seconds ? n.branch_seconds(port, edge) : -1.0;
}

spotflow_status svc_publish_output(const spotflow_host* h, const char* name) {
    auto& n = self(h);
    if (!name) return SPOTFLOW_ERR_INVALID_ARGUMENT;
    try {
        n.run->outputs->publish(name, n.node_id);
        if (n.run->log) n.run->log(n.node_id, SPOTFLOW_LOG_DEBUG, fmt::format("published {}", name));
        return SPOTFLOW_OK;
    } catch (const IoError& e) {
        svc_set_error(h, SPOTFLOW_ERR_IO, e.what());
        return SPOTFLOW_ERR_IO;
    } catch (const std::exception& e) {
        svc_set_error(h, SPOTFLOW_ERR_INVALID_ARGUMENT, e.what());
        return SPOTFLOW_ERR_INVALID_ARGUMENT;
    }
}

const char* svc_plugin_dir(const spotflow_host* h) {
    const PluginInfo* p = binding(h).plugin;
    return p ? p->folder.c_str() : "";
}

} // namespace

void fill_host_table(spotflow_host& table, HostBinding* b) {
    table.abi = SPOTFLOW_ABI_VERSION_INIT;
    table.host_data = b;
    table.log = svc_log;
    table.progress = svc_progress;
    table.is_cancelled = svc_is_cancelled;
    table.set_error = svc_set_error;
    table.output_path = svc_output_path;
    table.threads = svc_threads;
    table.seed = svc_seed;
    table.create_loss = svc_create_loss;
    table.input_count = svc_input_count;
    table.input_source = svc_input_source;
    table.branch_seconds = svc_branch_seconds;
    // 1.1
    table.publish_output = svc_publish_output;
    table.plugin_dir = svc_plugin_dir;
    table.record = svc_record;
}

NodeHost::NodeHost(std::string id, RunState* run_state, NodeProgress* p, uint64_t run_seed, const PluginInfo* plugin)
    : binding{this, plugin}, node_id(std::move(id)), run(run_state), progress(p), seed(node_seed(run_seed, node_id)) {
    fill_host_table(table, &binding);
}

std::vector<const PluginInfo*> NodeHost::losses() {
    std::lock_guard<std::mutex> lock(loss_mu);
    return losses_used;
}

std::string NodeHost::failure_message(spotflow_status status, const char* during) {
    std::lock_guard<std::mutex> lock(mu);
    // The host refused an output name and knows why better than the SDK's
    // generic "leaves the output folder or is already written" (someone's
    // file in the folder, an input it would replace).
    if (!output_refusal.empty()) return output_refusal;
    if (!error.empty()) return error;
    return fmt::format("{} failed with status {} ({}) and gave no reason", during, status, status_name(status));
}

} // namespace spotflow
