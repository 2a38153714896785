#include "plugin_index.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace spotflow {

namespace fs = std::filesystem;

namespace {

// The file's identity for the index: size and modification time.
std::optional<std::pair<uintmax_t, int64_t>> stamp(const fs::path& f) {
    std::error_code ec;
    const auto size = fs::file_size(f, ec);
    if (ec) return std::nullopt;
    const auto mtime = fs::last_write_time(f, ec);
    if (ec) return std::nullopt;
    return std::make_pair(size, static_cast<int64_t>(mtime.time_since_epoch().count()));
}

} // namespace

fs::path PluginIndex::default_path() {
    if (const char* p = std::getenv("SPOTFLOW_PLUGIN_INDEX")) return p;
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "spotflow" / "plugin-index.json";
    if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache" / "spotflow" / "plugin-index.json";
    return {};
}

PluginIndex::PluginIndex(fs::path file) : file_(std::move(file)) {
    if (file_.empty()) return;
    std::ifstream in(file_);
    if (!in) return;
    try {
        const auto doc = nlohmann::json::parse(in);
        if (doc.value("version", 0) == 1 && doc.contains("libraries") && doc["libraries"].is_object())
            libraries_ = doc["libraries"];
    } catch (const std::exception&) {
        // A damaged index is rebuilt from the libraries themselves.
    }
}

std::optional<std::vector<std::string>> PluginIndex::lookup(const fs::path& library) const {
    const auto it = libraries_.find(library.string());
    const auto now = stamp(library);
    if (it == libraries_.end() || !now) return std::nullopt;
    try {
        if (it->at("size").get<uintmax_t>() != now->first || it->at("mtime").get<int64_t>() != now->second)
            return std::nullopt;
        return it->at("ids").get<std::vector<std::string>>();
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

void PluginIndex::record(const fs::path& library, const std::vector<std::string>& ids) {
    if (file_.empty()) return;
    const auto now = stamp(library);
    if (!now) return;
    const nlohmann::json entry = {{"size", now->first}, {"mtime", now->second}, {"ids", ids}};
    auto& slot = libraries_[library.string()];
    if (slot != entry) slot = entry, dirty_ = true;
}

void PluginIndex::save() {
    if (file_.empty() || !dirty_) return;
    std::error_code ec;
    fs::create_directories(file_.parent_path(), ec);
    // Entries of libraries that are gone would only grow the file.
    for (auto it = libraries_.begin(); it != libraries_.end();)
        it = fs::exists(it.key(), ec) ? std::next(it) : libraries_.erase(it);
    const fs::path tmp = file_.string() + ".tmp-" + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out) return;
        out << nlohmann::json{{"version", 1}, {"libraries", libraries_}}.dump(1) << "\n";
        if (!out) {
            fs::remove(tmp, ec);
            return;
        }
    }
    fs::rename(tmp, file_, ec);
    if (ec) fs::remove(tmp, ec);
    dirty_ = false;
}

} // namespace spotflow
