#include "bench_util.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <sstream>
#include <stdexcept>

namespace bench {

namespace {

// VmRSS of a live process, MiB; -1 when unreadable.
long rss_mib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6) / 1024;
    return -1;
}

} // namespace

ChildRun run_child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env, const Limits& limits) {
    char tmpl[] = "/tmp/spotflow-bench-XXXXXX";
    const int fd = mkstemp(tmpl);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    const auto t0 = Clock::now();
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    int status = 0;
    rusage usage{};
    std::string killed;
    if (limits.timeout_s > 0 || limits.max_rss_mib > 0) {
        while (wait4(pid, &status, WNOHANG, &usage) == 0) {
            const long rss = limits.max_rss_mib > 0 ? rss_mib(pid) : -1;
            if (limits.max_rss_mib > 0 && rss > limits.max_rss_mib)
                killed = "resident memory above " + std::to_string(limits.max_rss_mib) + " MiB";
            else if (limits.timeout_s > 0 && seconds_since(t0) > limits.timeout_s)
                killed = "still running after " + std::to_string(static_cast<long>(limits.timeout_s)) + " s";
            if (!killed.empty()) {
                kill(pid, SIGKILL);
                wait4(pid, &status, 0, &usage);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    } else {
        wait4(pid, &status, 0, &usage);
    }
    ChildRun r;
    r.killed = killed;
    r.seconds = seconds_since(t0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.peak_rss_kib = usage.ru_maxrss;
    close(fd);
    std::ifstream in(tmpl);
    r.output.assign(std::istreambuf_iterator<char>(in), {});
    unlink(tmpl);
    return r;
}

std::vector<std::map<std::string, std::string>> read_csv(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::string line;
    std::getline(in, line);
    std::vector<std::string> header;
    std::stringstream hs(line);
    for (std::string h; std::getline(hs, h, ',');) header.push_back(h);
    std::vector<std::map<std::string, std::string>> rows;
    while (std::getline(in, line)) {
        std::stringstream ls(line);
        std::map<std::string, std::string> row;
        size_t c = 0;
        for (std::string v; std::getline(ls, v, ',') && c < header.size(); ++c) row[header[c]] = v;
        rows.push_back(std::move(row));
    }
    return rows;
}

double process_cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    const auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
    return secs(u.ru_utime) + secs(u.ru_stime);
}

} // namespace bench
