// The run's output folder. Every file is written under a temporary name and
// renamed into place only when the whole run succeeds (commit); a failed or
// interrupted run removes them (rollback), so it leaves no partial output.
// The one exception is a file its node publishes mid-run (a trainer's
// checkpoint): it is renamed into place at once and kept whatever follows.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace spotflow {

// The names the host keeps for itself in an output folder.
inline constexpr const char* kRunRecord = "run.json";
inline constexpr const char* kFailedRunRecord = "run-failed.json";
// "" if `name` may name an output file, else why not: relative, inside the
// folder, a file name, none of the host's own names.
std::string output_name_problem(const std::string& name);

struct OutputFolderOptions {
    // Take an advisory lock (flock) on the folder for the folder's lifetime,
    // so a second run into it fails at once; remove the temporary files that
    // runs which died left behind.
    bool lock = false;
    // Refuse to replace a file the folder already holds unless the last
    // run.json there lists it as an output of an earlier run.
    bool refuse_foreign = false;
    // Files no output may replace, whatever --force says (the run's inputs
    // and recipe): compared by device and inode.
    std::vector<std::filesystem::path> protect;
};

class OutputFolder {
public:
    // Creates the folder if needed and checks it is writable; throws
    // UserError naming the folder and the reason otherwise (also when
    // another run holds its lock).
    explicit OutputFolder(std::filesystem::path dir, OutputFolderOptions options = {});
    ~OutputFolder(); // rolls back whatever was not committed or published
    OutputFolder(const OutputFolder&) = delete;
    OutputFolder& operator=(const OutputFolder&) = delete;

    // Temporary files of dead runs removed when the folder was opened.
    size_t stale_removed() const { return stale_removed_; }

    const std::filesystem::path& dir() const { return dir_; }

    // A temporary path for the output `name` (relative, inside the folder),
    // claimed by `owner` (a node id). Throws UserError for a name that
    // escapes the folder, is claimed by another owner, or is claimed by this
    // owner and not yet published. A name the owner has published may be
    // claimed again for a newer version. Thread-safe.
    std::filesystem::path claim(const std::string& name, const std::string& owner = "");

    // Renames the owner's claimed file `name` into place now and keeps it
    // through a rollback. Throws UserError if the owner has no pending claim
    // on `name`, nothing was written there, or the rename fails. Thread-safe.
    void publish(const std::string& name, const std::string& owner = "");

    // Renames every claimed file that exists into place; returns the names
    // now final, published ones included, sorted.
    std::vector<std::string> commit();
    // Removes every unpublished temporary file; published ones stay.
    void rollback();
    // The names published so far, in the order first published.
    std::vector<std::string> published() const;

private:
    struct Claim {
        std::string owner;
        std::filesystem::path tmp; // empty once published and not claimed again
        bool published = false;    // a version of it is final
    };
    std::filesystem::path dir_;
    OutputFolderOptions options_;
    int lock_fd_ = -1;
    size_t stale_removed_ = 0;
    std::vector<std::string> earlier_outputs_; // from the run.json found, sorted
    std::vector<std::pair<uint64_t, uint64_t>> protected_ids_; // (dev, ino)
    mutable std::mutex mu_;
    std::map<std::string, Claim> claimed_; // name -> claim
    std::vector<std::string> published_order_;
    unsigned counter_ = 0;
};

} // namespace spotflow
