#include "output_folder.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "errors.hpp"

namespace spotflow {
namespace fs = std::filesystem;

OutputFolder::OutputFolder(fs::path dir) : dir_(std::move(dir)) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) throw UserError(fmt::format("cannot create output folder '{}': {}", dir_.string(), ec.message()));
    if (!fs::is_directory(dir_)) throw UserError(fmt::format("output folder '{}' is not a folder", dir_.string()));
    if (::access(dir_.c_str(), W_OK | X_OK) != 0)
        throw UserError(fmt::format("output folder '{}' is not writable: {}", dir_.string(), std::strerror(errno)));
}

OutputFolder::~OutputFolder() { rollback(); }

fs::path OutputFolder::claim(const std::string& name, const std::string& owner) {
    const fs::path rel = fs::path(name).lexically_normal();
    if (name.empty() || rel.is_absolute() || rel.empty() || *rel.begin() == ".." || rel.filename().empty())
        throw UserError(fmt::format("output name '{}' must be a file name inside the output folder", name));
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = claimed_.find(rel.string());
    if (it != claimed_.end()) {
        if (it->second.owner != owner)
            throw UserError(fmt::format("two nodes write the output '{}'; give one of them another file name", name));
        // The same node again: allowed only for a newer version of a
        // published file, never for a second writer of a pending one.
        if (!it->second.published || !it->second.tmp.empty())
            throw UserError(fmt::format("output '{}' is claimed twice; publish it before claiming it again", name));
    }
    const fs::path final_path = dir_ / rel;
    std::error_code ec;
    fs::create_directories(final_path.parent_path(), ec);
    if (ec) throw UserError(fmt::format("cannot create '{}': {}", final_path.parent_path().string(), ec.message()));
    const fs::path tmp = final_path.parent_path() /
                         fmt::format(".{}.spotflow-partial-{}-{}", rel.filename().string(), ::getpid(), counter_++);
    if (it != claimed_.end()) it->second.tmp = tmp;
    else claimed_.emplace(rel.string(), Claim{owner, tmp, false});
    return tmp;
}

void OutputFolder::publish(const std::string& name, const std::string& owner) {
    const std::string rel = fs::path(name).lexically_normal().string();
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = claimed_.find(rel);
    if (it == claimed_.end() || it->second.owner != owner)
        throw UserError(fmt::format("publish_output('{}'): this node has not claimed that output (call output_path first)", name));
    Claim& c = it->second;
    if (c.tmp.empty())
        throw UserError(fmt::format("publish_output('{}'): already published; claim it again with output_path for a newer version", name));
    std::error_code ec;
    if (!fs::is_regular_file(c.tmp, ec))
        throw IoError(fmt::format("publish_output('{}'): nothing was written at '{}'", name, c.tmp.string()));
    // rename(2) replaces an earlier published version atomically: a reader
    // sees the old checkpoint or the new one, never half of one.
    fs::rename(c.tmp, dir_ / rel, ec);
    if (ec) throw IoError(fmt::format("publish_output('{}'): cannot move it into place: {}", name, ec.message()));
    c.tmp.clear();
    if (!c.published) published_order_.push_back(rel);
    c.published = true;
}

std::vector<std::string> OutputFolder::commit() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> written;
    for (const auto& [name, c] : claimed_) {
        std::error_code ec;
        if (!c.tmp.empty() && fs::exists(c.tmp, ec)) {
            fs::rename(c.tmp, dir_ / name, ec);
            if (ec) throw UserError(fmt::format("cannot move output into place as '{}': {}", (dir_ / name).string(), ec.message()));
            written.push_back(name);
        } else if (c.published) {
            written.push_back(name);
        }
    }
    claimed_.clear();
    return written; // map order: sorted by name
}

void OutputFolder::rollback() {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, c] : claimed_) {
        if (c.tmp.empty()) continue;
        std::error_code ec;
        fs::remove_all(c.tmp, ec);
    }
    claimed_.clear();
}

std::vector<std::string> OutputFolder::published() const {
    std::lock_guard<std::mutex> lock(mu_);
    return published_order_;
}

} // namespace spotflow
