#include "output_folder.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "errors.hpp"

namespace spotflow {
namespace fs = std::filesystem;

namespace {

constexpr const char* kPartialTag = ".spotflow-partial";

std::optional<std::pair<uint64_t, uint64_t>> file_id(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return std::nullopt;
    return std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
}

// The pid in ".NAME.spotflow-partial-PID-N", or 0.
long partial_pid(const std::string& file) {
    const auto at = file.rfind(std::string(kPartialTag) + "-");
    if (at == std::string::npos) return 0;
    return std::strtol(file.c_str() + at + std::strlen(kPartialTag) + 1, nullptr, 10);
}

} // namespace

std::string output_name_problem(const std::string& name) {
    const fs::path rel = fs::path(name).lexically_normal();
    if (name.empty() || rel.is_absolute() || rel.empty() || *rel.begin() == ".." || rel.filename().empty() ||
        rel.filename() == "." || rel.filename() == "..")
        return "must be a file name inside the output folder (relative, no '..')";
    if (rel == kRunRecord || rel == kFailedRunRecord)
        return fmt::format("'{}' is the host's own file in the output folder; choose another name", rel.string());
    if (name.find(kPartialTag) != std::string::npos)
        return fmt::format("names containing '{}' are the host's temporary files", kPartialTag);
    return "";
}

OutputFolder::OutputFolder(fs::path dir, OutputFolderOptions options) : dir_(std::move(dir)), options_(std::move(options)) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) throw UserError(fmt::format("cannot create output folder '{}': {}", dir_.string(), ec.message()));
    if (!fs::is_directory(dir_)) throw UserError(fmt::format("output folder '{}' is not a folder", dir_.string()));
    if (::access(dir_.c_str(), W_OK | X_OK) != 0)
        throw UserError(fmt::format("output folder '{}' is not writable: {}", dir_.string(), std::strerror(errno)));
    for (const auto& p : options_.protect)
        if (const auto id = file_id(p)) protected_ids_.push_back(*id);
    if (options_.lock) {
        // The folder itself is locked (flock works on a directory's fd): no
        // lock file is left behind, and the kernel drops the lock when the
        // process dies, however it dies.
        lock_fd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lock_fd_ < 0)
            throw UserError(fmt::format("cannot open output folder '{}': {}", dir_.string(), std::strerror(errno)));
        if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
            const int err = errno;
            ::close(lock_fd_);
            lock_fd_ = -1;
            if (err == EWOULDBLOCK)
                throw UserError(fmt::format("output folder '{}' is in use by another spotflow run; wait for it or "
                                            "choose another --out",
                                            dir_.string()));
            throw UserError(fmt::format("cannot lock output folder '{}': {}", dir_.string(), std::strerror(err)));
        }
        // With the lock held no other run writes here: every temporary file
        // is a dead run's (killed, or a second signal). Those of a live pid
        // are left alone all the same (a host without the lock).
        for (auto it = fs::recursive_directory_iterator(dir_, fs::directory_options::skip_permission_denied, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
            const std::string file = it->path().filename().string();
            if (file.find(kPartialTag) == std::string::npos) continue;
            const long pid_of = partial_pid(file);
            if (pid_of > 0 && pid_of != ::getpid() && ::kill(static_cast<pid_t>(pid_of), 0) == 0) continue;
            it.disable_recursion_pending();
            std::error_code rm;
            if (fs::remove_all(it->path(), rm) > 0) ++stale_removed_;
        }
    }
    if (options_.refuse_foreign) {
        std::ifstream in(dir_ / kRunRecord);
        if (in) {
            try {
                const auto j = nlohmann::json::parse(in);
                for (const auto& o : j.value("outputs", nlohmann::json::array()))
                    if (o.is_string()) earlier_outputs_.push_back(fs::path(o.get<std::string>()).lexically_normal().string());
            } catch (const std::exception&) {
                // An unreadable record vouches for nothing.
            }
        }
        std::sort(earlier_outputs_.begin(), earlier_outputs_.end());
    }
}

OutputFolder::~OutputFolder() {
    rollback();
    if (lock_fd_ >= 0) ::close(lock_fd_); // releases the flock
}

fs::path OutputFolder::claim(const std::string& name, const std::string& owner) {
    const fs::path rel = fs::path(name).lexically_normal();
    if (const std::string why = output_name_problem(name); !why.empty())
        throw UserError(fmt::format("output name '{}': {}", name, why));
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
    if (const auto id = file_id(final_path)) {
        if (std::find(protected_ids_.begin(), protected_ids_.end(), *id) != protected_ids_.end())
            throw UserError(fmt::format("output '{}' would replace '{}', an input of this run; choose another --out",
                                        name, final_path.string()));
        if (options_.refuse_foreign && it == claimed_.end() &&
            !std::binary_search(earlier_outputs_.begin(), earlier_outputs_.end(), rel.string()))
            throw UserError(fmt::format("output folder '{}' already holds '{}', which no earlier run there wrote "
                                        "(not in its run.json); move it away, choose another --out, or pass --force",
                                        dir_.string(), rel.string()));
    }
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
