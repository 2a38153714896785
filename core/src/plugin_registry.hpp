// Finds plugin libraries, loads them with Boost.DLL, checks their ABI and
// descriptors, and keeps every library loaded for as long as anything taken
// from it (descriptors, vtables, instances) may be used.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "json_schema.hpp"
#include "plugin_index.hpp"
#include "spotflow/plugin.h"

namespace spotflow {

struct LoadedLibrary; // holds the boost::dll::shared_library

struct PluginInfo {
    std::shared_ptr<LoadedLibrary> library; // keeps desc and its vtables alive
    const spotflow_plugin_desc* desc = nullptr;
    std::filesystem::path path;
    std::unique_ptr<JsonSchema> params_schema;
    spotflow_abi_version abi{}; // the ABI its library declares (which appended fields exist)

    bool is_source() const { return desc->node && desc->n_inputs == 0; }
    bool is_loss() const { return desc->loss != nullptr; }
    // SHA-256 of the library file, hex; computed on first use.
    std::string library_sha256() const;
};

struct LoadProblem {
    std::filesystem::path path;
    std::string reason;
};

class PluginRegistry {
public:
    PluginRegistry();
    ~PluginRegistry();
    PluginRegistry(PluginRegistry&&) noexcept;
    PluginRegistry& operator=(PluginRegistry&&) noexcept;

    // Every *.so in `dir` (not recursive); a missing folder is skipped. A
    // library the plugin index knows unchanged is loaded only when one of
    // its plugins is asked for (find, all); the others are loaded now.
    void add_folder(const std::filesystem::path& dir);
    // Loads one library. Problems are recorded, never thrown: the rest load.
    void add_library(const std::filesystem::path& file);

    // Loads the plugin's library first if it was deferred. Thread-safe.
    const PluginInfo* find(const std::string& id) const;
    std::vector<const PluginInfo*> all() const; // sorted by id; loads every deferred library
    size_t libraries_loaded() const { return loaded_files_.size(); }
    const std::vector<LoadProblem>& problems() const { return problems_; }
    const std::vector<std::filesystem::path>& folders() const { return folders_; }

private:
    void load_deferred(std::filesystem::path file);

    std::unique_ptr<PluginIndex> index_;
    // find() may load a deferred library, and plugins call it through
    // host->create_loss from any thread: loading is serialised.
    std::unique_ptr<std::mutex> load_mutex_;
    std::map<std::string, std::filesystem::path> deferred_; // plugin id -> library not loaded yet
    std::set<std::filesystem::path> deferred_files_;         // those libraries, canonical
    std::map<std::string, std::unique_ptr<PluginInfo>> plugins_;
    std::vector<LoadProblem> problems_;
    std::vector<std::filesystem::path> folders_;
    std::vector<std::filesystem::path> loaded_files_;
};

// The folders searched before a recipe's own plugin_paths: the bundled
// folder next to the executable (../lib/spotflow/plugins), then each entry
// of SPOTFLOW_PLUGIN_PATH (colon-separated).
std::vector<std::filesystem::path> default_plugin_folders();

// Checks a descriptor's own consistency; returns the reason it is invalid,
// or "" if it is fine.
std::string check_descriptor(const spotflow_plugin_desc& d);

} // namespace spotflow
