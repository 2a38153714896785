// The run's output folder. Every file is written under a temporary name and
// renamed into place only when the whole run succeeds (commit); a failed or
// interrupted run removes them (rollback), so it leaves no partial output.
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
    ~OutputFolder(); // rolls back whatever was not committed

    const std::filesystem::path& dir() const { return dir_; }

    // A temporary path for the output `name` (relative, inside the folder).
    // Throws UserError for a name that escapes the folder or is claimed twice.
    std::filesystem::path claim(const std::string& name);

    // Renames every claimed file that exists into place; returns their names.
    std::vector<std::string> commit();
    void rollback();

private:
    std::filesystem::path dir_;
    std::mutex mu_;
    std::map<std::string, std::filesystem::path> claimed_; // name -> temp path
    unsigned counter_ = 0;
};

} // namespace spotflow
