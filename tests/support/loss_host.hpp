// A fake host that also creates losses (FakeHost leaves create_loss out):
// for tests of trainers and of losses that compose others (loss.kendall).
// The loss libraries are named by path; an id none of them has is refused
// with a reason through set_error, as the real host does.
//
// Threading and ownership: create_loss may be called from any thread the
// plugin uses; the libraries are loaded once per process and stay loaded.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "plugin_harness.hpp"

namespace spotflow::testing {

class LossHost {
public:
    explicit LossHost(const std::vector<std::string>& loss_library_paths,
                      std::filesystem::path out_dir = std::filesystem::temp_directory_path())
        : fake(std::move(out_dir)) {
        for (const auto& path : loss_library_paths) register_library(path);
        table = *fake.get();
        table.create_loss = [](const spotflow_host* h, const char* id, const char* params,
                               spotflow_loss_instance* out) -> spotflow_status {
            const spotflow_plugin_desc* d = find(id);
            if (!d || !d->loss) {
                h->set_error(h, SPOTFLOW_ERR_INVALID_ARGUMENT, ("unknown loss plugin '" + std::string(id) + "'").c_str());
                return SPOTFLOW_ERR_INVALID_ARGUMENT;
            }
            out->loss = d->loss;
            out->self = d->loss->create(h, params);
            out->abi = SPOTFLOW_ABI_VERSION_INIT; // as a 1.1 host: the loss library's ABI (built with these headers)
            return out->self ? SPOTFLOW_OK : SPOTFLOW_ERR_INVALID_ARGUMENT;
        };
    }

    FakeHost fake;
    spotflow_host table{}; // pass &table to the plugin

private:
    struct Registry {
        std::mutex mutex;
        std::map<std::string, std::unique_ptr<PluginLibrary>> by_path;
    };
    static Registry& registry() {
        static Registry r;
        return r;
    }
    static void register_library(const std::string& path) {
        Registry& r = registry();
        std::lock_guard<std::mutex> lock(r.mutex);
        auto& lib = r.by_path[path];
        if (lib) return;
        lib = std::make_unique<PluginLibrary>(path);
    }
    static const spotflow_plugin_desc* find(const char* id) {
        Registry& r = registry();
        std::lock_guard<std::mutex> lock(r.mutex);
        for (const auto& [path, lib] : r.by_path) {
            try {
                return &lib->plugin(id);
            } catch (const std::runtime_error&) { // not in this library
            }
        }
        return nullptr;
    }
};

} // namespace spotflow::testing
