// Terminal output: error lines, plugin log lines, and the progress display
// (a bar on a terminal, plain lines otherwise).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "executor.hpp"

namespace spotflow::cli {

void print_error(const std::string& message);   // "spotflow: error: ..." on stderr
void print_warning(const std::string& message); // "spotflow: warning: ..."

class ProgressDisplay {
public:
    ProgressDisplay(const std::vector<std::unique_ptr<NodeProgress>>& nodes, bool enabled);
    ~ProgressDisplay(); // stops and clears the bar
    // Serialises log lines with the bar, so they do not tear it.
    void log(const std::string& node, int32_t level, const std::string& message);

private:
    void loop();
    void draw(bool final);
    const std::vector<std::unique_ptr<NodeProgress>>& nodes_;
    bool tty_ = false, enabled_ = false;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mu_;
    size_t drawn_ = 0;
};

} // namespace spotflow::cli
