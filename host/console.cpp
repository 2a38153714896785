#include "console.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "spotflow/host.h"

namespace spotflow::cli {

// stdout first: a message must not land in the middle of a line printed before it.
void print_error(const std::string& message) {
    std::fflush(stdout);
    fmt::print(stderr, "spotflow: error: {}\n", message);
}
void print_warning(const std::string& message) {
    std::fflush(stdout);
    fmt::print(stderr, "spotflow: warning: {}\n", message);
}

ProgressDisplay::ProgressDisplay(const std::vector<std::unique_ptr<NodeProgress>>& nodes, bool enabled)
    : nodes_(nodes), tty_(::isatty(STDERR_FILENO) != 0), enabled_(enabled) {
    if (enabled_) thread_ = std::thread([this] { loop(); });
}

ProgressDisplay::~ProgressDisplay() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    if (tty_ && drawn_) fmt::print(stderr, "\r{:{}}\r", "", drawn_);
}

void ProgressDisplay::log(const std::string& node, int32_t level, const std::string& message) {
    std::lock_guard<std::mutex> lock(mu_);
    if (tty_ && drawn_) {
        fmt::print(stderr, "\r{:{}}\r", "", drawn_);
        drawn_ = 0;
    }
    const char* tag = level >= SPOTFLOW_LOG_ERROR ? "error: " : level >= SPOTFLOW_LOG_WARNING ? "warning: " : "";
    fmt::print(stderr, "[{}] {}{}\n", node, tag, message);
}

void ProgressDisplay::loop() {
    using namespace std::chrono;
    const auto t0 = steady_clock::now();
    auto last_line = t0;
    while (!stop_) {
        std::this_thread::sleep_for(milliseconds(tty_ ? 150 : 250));
        const auto now = steady_clock::now();
        if (now - t0 < milliseconds(700)) continue; // short runs stay quiet
        if (tty_) draw(false);
        else if (now - last_line >= seconds(5)) {
            draw(false);
            last_line = now;
        }
    }
}

void ProgressDisplay::draw(bool) {
    // The bar follows the node with a known total that is furthest behind:
    // in a streamed movie that is the slowest stage.
    const NodeProgress* lead = nullptr;
    double lead_frac = 2;
    std::string others;
    for (const auto& n : nodes_) {
        const int64_t total = n->total, done = n->done;
        if (total <= 0 || n->finished) continue;
        const double f = static_cast<double>(done) / static_cast<double>(total);
        if (f < lead_frac) {
            lead_frac = f;
            lead = n.get();
        }
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (!lead) return;
    const int width = 30;
    const int filled = static_cast<int>(lead_frac * width);
    const std::string line = fmt::format("[{}{}] {:3.0f}% {} {}/{}", std::string(static_cast<size_t>(filled), '#'),
                                         std::string(static_cast<size_t>(width - filled), '.'), 100 * lead_frac,
                                         lead->id, lead->done.load(), lead->total.load());
    if (tty_) {
        fmt::print(stderr, "\r{:<{}}", line, drawn_);
        drawn_ = line.size();
    } else {
        fmt::print(stderr, "progress: {}\n", line);
    }
    std::fflush(stderr);
}

} // namespace spotflow::cli
