// spotflow/library_dir.hpp: for C++ plugins, the folder of the library a
// given address lies in (dladdr), to find files shipped beside the .so
// (weights, model cards). Header-only; POSIX (dladdr: libc since glibc 2.34,
// else link ${CMAKE_DL_LIBS}).
//
//   const std::string dir = spotflow::library_dir(&kDesc);  // any object of the plugin
//
// Pass the address of something of the plugin's own (its descriptor, a
// function): the header has no address that is surely the plugin's.
// Threading: thread-safe (dladdr is); no ownership.
#pragma once

#include <dlfcn.h>

#include <string>

namespace spotflow {

// The folder of the loaded library holding `address`, without the trailing
// slash; "." when the library cannot be found or has no folder in its name.
inline std::string library_dir(const void* address) {
    Dl_info info{};
    if (!dladdr(address, &info) || !info.dli_fname) return ".";
    const std::string path = info.dli_fname;
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

} // namespace spotflow
