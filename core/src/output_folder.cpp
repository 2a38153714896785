#include "output_folder.hpp"

#include <unistd.h>

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

fs::path OutputFolder::claim(const std::string& name) {
    const fs::path rel = fs::path(name).lexically_normal();
    if (name.empty() || rel.is_absolute() || rel.empty() || *rel.begin() == ".." || rel.filename().empty())
        throw UserError(fmt::format("output name '{}' must be a file name inside the output folder", name));
    std::lock_guard<std::mutex> lock(mu_);
    if (claimed_.count(rel.string()))
        throw UserError(fmt::format("two nodes write the output '{}'; give one of them another file name", name));
    const fs::path final_path = dir_ / rel;
    std::error_code ec;
    fs::create_directories(final_path.parent_path(), ec);
    if (ec) throw UserError(fmt::format("cannot create '{}': {}", final_path.parent_path().string(), ec.message()));
    const fs::path tmp = final_path.parent_path() /
                         fmt::format(".{}.spotflow-partial-{}-{}", rel.filename().string(), ::getpid(), counter_++);
    claimed_.emplace(rel.string(), tmp);
    return tmp;
}

std::vector<std::string> OutputFolder::commit() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> written;
    for (const auto& [name, tmp] : claimed_) {
        std::error_code ec;
        if (!fs::exists(tmp, ec)) continue;
        fs::rename(tmp, dir_ / name, ec);
        if (ec) throw UserError(fmt::format("cannot move output into place as '{}': {}", (dir_ / name).string(), ec.message()));
        written.push_back(name);
    }
    claimed_.clear();
    return written;
}

void OutputFolder::rollback() {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, tmp] : claimed_) {
        std::error_code ec;
        fs::remove_all(tmp, ec);
    }
    claimed_.clear();
}

} // namespace spotflow
