#include <gtest/gtest.h>

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
    EXPECT_NE(reason_for(r, "bad_abi_major.so").find("built for plugin ABI 2.0, this host speaks 1.0"), std::string::npos);
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

} // namespace
