// tests/support/plugin_harness.hpp: drive one plugin library directly, with
// a fake host, for plugin unit tests. It uses dlopen, not spotflow's loader,
// so a plugin's tests depend only on the ABI headers.
#pragma once

#include <dlfcn.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "spotflow/plugin.h"
#include "spotflow/table.hpp"
#include "spotflow/tensor.hpp"

namespace spotflow::testing {

// The SDK's table types, so a test's `using namespace spotflow::testing;`
// brings them with the harness.
using spotflow::ColumnType;
using spotflow::TableBuilder;
using spotflow::TableView;

// An emitted packet, owned: releases its tensor / table when destroyed.
struct OwnedPacket {
    int32_t port = 0;
    spotflow_packet p{};
    OwnedPacket() = default;
    OwnedPacket(const OwnedPacket&) = delete;
    OwnedPacket& operator=(const OwnedPacket&) = delete;
    ~OwnedPacket() {
        release_tensor(p.tensor);
        release_table(&p.schema, &p.array);
    }
    TableView table() const { return TableView(p.schema, p.array); }
};

// A fake host: collects errors and logs, hands out output paths inside a
// folder (written directly to their final names: tests check content).
class FakeHost {
public:
    explicit FakeHost(std::filesystem::path out_dir = std::filesystem::temp_directory_path())
        : out_dir_(std::move(out_dir)) {
        h_.abi = SPOTFLOW_ABI_VERSION_INIT;
        h_.host_data = this;
        h_.log = [](const spotflow_host* h, spotflow_log_level, const char* m) { self(h)->logs.push_back(m); };
        h_.progress = [](const spotflow_host*, int64_t, int64_t) {};
        h_.is_cancelled = [](const spotflow_host* h) { return self(h)->cancelled ? 1 : 0; };
        h_.set_error = [](const spotflow_host* h, spotflow_status s, const char* m) {
            self(h)->error = m;
            self(h)->error_status = s;
        };
        h_.output_path = [](const spotflow_host* h, const char* name, char* buf, size_t n) -> spotflow_status {
            const std::string p = (self(h)->out_dir_ / name).string();
            if (p.size() + 1 > n) return SPOTFLOW_ERR_IO;
            std::snprintf(buf, n, "%s", p.c_str());
            return SPOTFLOW_OK;
        };
        h_.threads = [](const spotflow_host*) { return int32_t{2}; };
        h_.seed = [](const spotflow_host*) { return uint64_t{42}; };
        h_.create_loss = nullptr;
        h_.input_count = [](const spotflow_host* h, int32_t port) {
            const auto& c = self(h)->input_counts;
            return port >= 0 && static_cast<size_t>(port) < c.size() ? c[static_cast<size_t>(port)] : int32_t{1};
        };
        h_.input_source = [](const spotflow_host*, int32_t, int32_t) -> const char* { return "test.input"; };
        h_.branch_seconds = [](const spotflow_host*, int32_t, int32_t) { return -1.0; };
        // 1.1: files are final already here; publishing only records the name.
        h_.publish_output = [](const spotflow_host* h, const char* name) -> spotflow_status {
            self(h)->published.push_back(name);
            return SPOTFLOW_OK;
        };
        h_.plugin_dir = [](const spotflow_host* h) { return self(h)->plugin_dir.c_str(); };
        h_.record = [](const spotflow_host* h, const char* key, const char* json_value) {
            self(h)->records[key ? key : ""] = json_value ? json_value : "null";
        };
    }
    const spotflow_host* get() const { return &h_; }

    std::vector<std::string> logs;
    std::string error;
    spotflow_status error_status = 0;
    bool cancelled = false;
    std::vector<int32_t> input_counts; // per port; 1 where not set
    std::vector<std::string> published; // names passed to publish_output
    std::string plugin_dir;             // what plugin_dir returns; set it to the library's folder
    std::map<std::string, std::string> records; // key -> JSON text passed to record

private:
    static FakeHost* self(const spotflow_host* h) { return static_cast<FakeHost*>(h->host_data); }
    spotflow_host h_{};
    std::filesystem::path out_dir_;
};

// A plugin library opened with dlopen; finds descriptors by id.
class PluginLibrary {
public:
    explicit PluginLibrary(const std::string& path) {
        // RTLD_NODELETE as the host does: a library is never unmapped under code
        // (ITK, oneTBB) that may still run from it at exit.
        handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!handle_) throw std::runtime_error(std::string("dlopen: ") + dlerror());
        entry_ = static_cast<const spotflow_plugin_entry*>(dlsym(handle_, SPOTFLOW_ENTRY_SYMBOL));
        if (!entry_) throw std::runtime_error("no spotflow_entry in " + path);
    }
    ~PluginLibrary() {
        if (handle_) dlclose(handle_);
    }
    PluginLibrary(const PluginLibrary&) = delete;
    PluginLibrary& operator=(const PluginLibrary&) = delete;

    const spotflow_plugin_desc& plugin(const std::string& id) const {
        for (uint32_t i = 0; i < entry_->plugin_count(); ++i)
            if (id == entry_->plugin(i)->id) return *entry_->plugin(i);
        throw std::runtime_error("no plugin " + id);
    }

private:
    void* handle_ = nullptr;
    const spotflow_plugin_entry* entry_ = nullptr;
};

// One node instance; params must already hold every value (the harness does
// not fill schema defaults: plugin_params.hpp does).
class NodeRunner {
public:
    NodeRunner(const spotflow_plugin_desc& d, FakeHost& host, const std::string& params_json)
        : vt_(d.node), host_(host) {
        self_ = vt_->create(host.get(), params_json.c_str());
    }
    ~NodeRunner() {
        if (self_) vt_->destroy(self_);
    }
    bool created() const { return self_ != nullptr; }

    // pull until DONE (or error); returns the last status.
    spotflow_status pull_all() {
        spotflow_status s;
        while ((s = vt_->pull(self_, &emitter_)) == SPOTFLOW_OK) {}
        return s == SPOTFLOW_DONE ? SPOTFLOW_OK : s;
    }
    spotflow_status pull_once() { return vt_->pull(self_, &emitter_); }
    spotflow_status process(int32_t port, const spotflow_packet& p, int32_t edge = 0) {
        const spotflow_input in{port, edge, "test.input"};
        return vt_->process(self_, &in, &p, &emitter_);
    }
    spotflow_status finish() { return vt_->finish(self_, &emitter_); }

    std::vector<std::unique_ptr<OwnedPacket>> emitted;

private:
    static spotflow_status emit(const spotflow_emitter* e, int32_t port, spotflow_packet* p) {
        auto* self = static_cast<NodeRunner*>(e->host_data);
        auto owned = std::make_unique<OwnedPacket>();
        owned->port = port;
        owned->p = *p; // ownership moves to the harness
        self->emitted.push_back(std::move(owned));
        return SPOTFLOW_OK;
    }
    const spotflow_node_vtable* vt_;
    FakeHost& host_;
    void* self_ = nullptr;
    spotflow_emitter emitter_{this, &NodeRunner::emit};
};

} // namespace spotflow::testing
