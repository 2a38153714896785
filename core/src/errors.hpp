// The one exception type the host uses for bad input: a recipe, a parameter,
// a file or a plugin the user can fix. Its message is one line naming the
// cause; the CLI prints it as it is. Anything else reaching the CLI is a bug.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace spotflow {

class UserError : public std::runtime_error {
public:
    explicit UserError(const std::string& message) : std::runtime_error(message) {}
};

// A file the host could not write or move (disk full, permissions): still
// the user's to fix, but reported to a plugin as SPOTFLOW_ERR_IO.
class IoError : public UserError {
public:
    explicit IoError(const std::string& message) : UserError(message) {}
};

// Several independent problems found in one pass (e.g. recipe validation);
// what() is the first, all() lists every one.
class UserErrors : public UserError {
public:
    explicit UserErrors(std::vector<std::string> messages)
        : UserError(messages.empty() ? std::string("invalid input") : messages.front()), all_(std::move(messages)) {}
    const std::vector<std::string>& all() const { return all_; }

private:
    std::vector<std::string> all_;
};

} // namespace spotflow
