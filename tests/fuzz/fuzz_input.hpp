// libFuzzer helpers: the readers under test open files by path, so each input
// goes to a file in memory (memfd) named by /proc/self/fd, rewritten per run.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "spotflow/host.h"

namespace fuzz {

class MemFile {
public:
    MemFile() : fd_(memfd_create("fuzz", 0)) {
        if (fd_ < 0) std::abort();
    }
    // The path at which the readers find `data`.
    std::string write(const uint8_t* data, size_t size) {
        if (ftruncate(fd_, 0) != 0) std::abort();
        if (size && pwrite(fd_, data, size, 0) != static_cast<ssize_t>(size)) std::abort();
        return "/proc/self/fd/" + std::to_string(fd_);
    }

private:
    int fd_;
};

// A host table with only what readers call (log, is_cancelled, progress).
inline const spotflow_host* quiet_host() {
    static spotflow_host h = [] {
        spotflow_host t{};
        t.abi = {SPOTFLOW_ABI_MAJOR, SPOTFLOW_ABI_MINOR};
        t.log = [](const spotflow_host*, spotflow_log_level, const char*) {};
        t.is_cancelled = [](const spotflow_host*) -> int32_t { return 0; };
        t.progress = [](const spotflow_host*, int64_t, int64_t) {};
        t.set_error = [](const spotflow_host*, spotflow_status, const char*) {};
        return t;
    }();
    return &h;
}

} // namespace fuzz
