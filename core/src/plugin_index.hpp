// Which plugin ids each library file provides, remembered between runs, so
// the host loads only the libraries a recipe names: loading LibTorch's
// plugins costs 0.5 s and 150 MB even for a recipe that never uses them
// (docs/benchmarks.md). An entry counts only while its file keeps the size
// and modification time it had when it was loaded and checked; a library
// that failed to load is never recorded, so its problem is reported every
// run. Best effort: an unreadable or unwritable index just means eager
// loading.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace spotflow {

class PluginIndex {
public:
    // $SPOTFLOW_PLUGIN_INDEX if set (empty: no index), else
    // $XDG_CACHE_HOME/spotflow/plugin-index.json, else
    // $HOME/.cache/spotflow/plugin-index.json.
    static std::filesystem::path default_path();

    explicit PluginIndex(std::filesystem::path file); // empty path: disabled
    // The ids `library` provided when it was recorded, if it is unchanged since.
    std::optional<std::vector<std::string>> lookup(const std::filesystem::path& library) const;
    void record(const std::filesystem::path& library, const std::vector<std::string>& ids);
    // Writes the index if it changed (to a temporary file, then renamed, so
    // concurrent runs never read half a file). Never throws.
    void save();

private:
    std::filesystem::path file_;
    nlohmann::json libraries_ = nlohmann::json::object();
    bool dirty_ = false;
};

} // namespace spotflow
