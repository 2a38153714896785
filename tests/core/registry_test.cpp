#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "plugin_registry.hpp"
#include "test_support.hpp"

using namespace spotflow;

namespace {

std::string reason_for(const PluginRegistry& r, const std::string& file) {
    for (const auto& p : r.problems())
        if (p.path.filename() == file) return p.reason;
    return "(loaded)";
}

TEST(Registry, LoadsEveryPluginOfALibrary) {
    PluginRegistry r = test::test_registry();
    ASSERT_NE(r.find("test.count_source"), nullptr);
    ASSERT_NE(r.find("test.summary"), nullptr);
    EXPECT_TRUE(r.find("test.count_source")->is_source());
    EXPECT_FALSE(r.find("test.summary")->is_source());
    EXPECT_TRUE(r.problems().empty());
    EXPECT_EQ(r.find("test.summary")->library_sha256().size(), 64u);
}

TEST(Registry, RefusesBadLibrariesByPathAndReasonAndLoadsTheRest) {
    PluginRegistry r;
    r.add_folder(BAD_PLUGIN_DIR);
    r.add_folder(TEST_PLUGIN_DIR);
    EXPECT_NE(r.find("test.summary"), nullptr);
    EXPECT_EQ(reason_for(r, "bad_no_entry.so"), "not a spotflow plugin: no 'spotflow_entry' symbol");
    EXPECT_NE(reason_for(r, "bad_abi_major.so").find("built for plugin ABI 2.0, this host speaks 1.1"), std::string::npos);
    EXPECT_NE(reason_for(r, "bad_descriptor.so").find("invalid plugin id 'Bad.Id'"), std::string::npos);
}

TEST(Registry, NotALibraryIsAProblemNotACrash) {
    const auto dir = test::fresh_dir("notalib");
    std::ofstream(dir / "junk.so") << "this is not an ELF file";
    PluginRegistry r;
    r.add_folder(dir);
    ASSERT_EQ(r.problems().size(), 1u);
    EXPECT_NE(r.problems()[0].reason.find("cannot load"), std::string::npos) << r.problems()[0].reason;
}

TEST(Registry, SameLibraryTwiceIsLoadedOnce) {
    PluginRegistry r;
    r.add_folder(TEST_PLUGIN_DIR);
    r.add_folder(TEST_PLUGIN_DIR);
    EXPECT_TRUE(r.problems().empty());
}

// The plugin index: a second registry over the same unchanged folder loads
// a library only when one of its plugins is asked for.
class RegistryIndex : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = test::fresh_dir("index");
        std::filesystem::create_directories(dir_ / "plugins");
        std::filesystem::copy_file(std::filesystem::path(TEST_PLUGIN_DIR) / "test_nodes.so", dir_ / "plugins" / "a.so");
        index_ = dir_ / "cache" / "plugin-index.json";
        ::setenv("SPOTFLOW_PLUGIN_INDEX", index_.c_str(), 1);
    }
    void TearDown() override {
        ::unsetenv("SPOTFLOW_PLUGIN_INDEX");
        std::filesystem::remove_all(dir_);
    }
    std::filesystem::path dir_, index_;
};

TEST_F(RegistryIndex, AnUnchangedLibraryIsLoadedOnlyWhenAskedFor) {
    PluginRegistry first;
    first.add_folder(dir_ / "plugins");
    EXPECT_EQ(first.libraries_loaded(), 1u);
    ASSERT_TRUE(std::filesystem::exists(index_));

    PluginRegistry second;
    second.add_folder(dir_ / "plugins");
    EXPECT_EQ(second.libraries_loaded(), 0u);
    const PluginInfo* p = second.find("test.summary");
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->path, dir_ / "plugins" / "a.so");
    EXPECT_EQ(second.libraries_loaded(), 1u);
    EXPECT_NE(second.find("test.count_source"), nullptr);
    EXPECT_EQ(second.find("test.nope"), nullptr);
    EXPECT_TRUE(second.problems().empty());

    PluginRegistry third;
    third.add_folder(dir_ / "plugins");
    EXPECT_EQ(third.all().size(), first.all().size()); // all() loads what was deferred
    EXPECT_EQ(third.libraries_loaded(), 1u);
}

TEST_F(RegistryIndex, AChangedLibraryOrADamagedIndexMeansLoadingNow) {
    PluginRegistry().add_folder(dir_ / "plugins");
    const auto lib = dir_ / "plugins" / "a.so";
    std::filesystem::last_write_time(lib, std::filesystem::last_write_time(lib) + std::chrono::seconds(5));
    PluginRegistry changed;
    changed.add_folder(dir_ / "plugins");
    EXPECT_EQ(changed.libraries_loaded(), 1u);

    std::ofstream(index_, std::ios::trunc) << "{ not json";
    PluginRegistry damaged;
    damaged.add_folder(dir_ / "plugins");
    EXPECT_EQ(damaged.libraries_loaded(), 1u);
    EXPECT_TRUE(damaged.problems().empty());
    PluginRegistry rebuilt; // the damaged index was written anew
    rebuilt.add_folder(dir_ / "plugins");
    EXPECT_EQ(rebuilt.libraries_loaded(), 0u);
}

TEST_F(RegistryIndex, ADuplicateIsReportedAsWithoutTheIndex) {
    std::filesystem::copy_file(dir_ / "plugins" / "a.so", dir_ / "plugins" / "b.so");
    for (int run = 0; run < 2; ++run) {
        PluginRegistry r;
        r.add_folder(dir_ / "plugins");
        EXPECT_NE(reason_for(r, "b.so").find("is already provided by " + (dir_ / "plugins" / "a.so").string()),
                  std::string::npos)
            << "run " << run << ": " << reason_for(r, "b.so");
        EXPECT_EQ(r.find("test.summary")->path, dir_ / "plugins" / "a.so");
    }
}

} // namespace
