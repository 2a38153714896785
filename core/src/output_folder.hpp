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

class OutputFolder {
public:
    // Creates the folder if needed and checks it is writable; throws
    // UserError naming the folder and the reason otherwise.
    explicit OutputFolder(std::filesystem::path dir);
    ~OutputFolder(); // rolls back whatever was not committed or published

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
    mutable std::mutex mu_;
    std::map<std::string, Claim> claimed_; // name -> claim
    std::vector<std::string> published_order_;
    unsigned counter_ = 0;
};

} // namespace spotflow
