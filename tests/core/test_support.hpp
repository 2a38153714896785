#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "plugin_registry.hpp"

namespace spotflow::test {

inline PluginRegistry test_registry() {
    PluginRegistry r;
    r.add_folder(TEST_PLUGIN_DIR);
    return r;
}

// A fresh empty folder under the system temp folder.
inline std::filesystem::path fresh_dir(const std::string& name) {
    const auto d = std::filesystem::temp_directory_path() / ("spotflow-test-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    return d;
}

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace spotflow::test
