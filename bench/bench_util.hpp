// Small pieces the benchmark needs: timing, running the CLI as a child and
// reading its peak memory, reading CSV results.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
// CPU seconds of this process so far, user + system, all threads: a ratio of
// two such spans is steadier than one of wall times on a shared machine.
double process_cpu_seconds();

struct ChildRun {
    int exit_code = -1;
    double seconds = 0;
    long peak_rss_kib = 0; // of the child alone (getrusage of the waited process)
    std::string output;    // stdout + stderr
    std::string killed;    // why the limits stopped it; empty when it ended by itself
};

// Bounds on one child; 0: none.
struct Limits {
    double timeout_s = 0;
    long max_rss_mib = 0; // resident memory, polled every 0.1 s from /proc
};

// Runs argv[0] with the arguments, waits, and measures it. With limits, a
// child past either bound gets SIGKILL and `killed` says which. Blocks the
// calling thread; one child per call.
ChildRun run_child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                   const Limits& limits = {});

// A CSV file as rows of name -> text.
std::vector<std::map<std::string, std::string>> read_csv(const std::string& path);

} // namespace bench
