// tests/support/test_dir.hpp: a gtest fixture with a fresh folder per test,
// for plugin tests that write files (a writer's output folder, an input
// file to read). Needs GoogleTest.
//
//   class WriteCsv : public spotflow::testing::TestDirFixture {
//   protected:
//       FakeHost host{dir_};  // members may use dir_: the base is made first
//   };
//
// dir_ is <temp>/spotflow_<suite>_<pid>_<test>, made before the test and
// removed after it.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace spotflow::testing {

class TestDirFixture : public ::testing::Test {
protected:
    static std::filesystem::path make_test_dir() {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        std::filesystem::path d = std::filesystem::temp_directory_path() /
                                  ("spotflow_" + std::string(info->test_suite_name()) + "_" + std::to_string(getpid()) +
                                   "_" + info->name());
        std::filesystem::create_directories(d);
        return d;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::filesystem::path dir_ = make_test_dir();
};

} // namespace spotflow::testing
