// spotflow/entry.hpp: SPOTFLOW_EXPORT_PLUGINS writes plugin.h's entry from
// the descriptors named, in order, with the SDK's ABI version; and the one
// guard (plugin_error.hpp) maps an exception the same way for a node and a
// loss.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "plugin_harness.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/loss.hpp"
#include "spotflow/node.hpp"

namespace entry_test {
namespace {

// A node and a loss that throw std::invalid_argument from every call.
class Picky {
public:
    std::string context() const { return "checking 'a.csv'"; }
    Picky(const spotflow_host*, const char*) {}
    spotflow_status process(const spotflow_input&, const spotflow_packet&, const spotflow_emitter*) {
        throw std::invalid_argument("column 'x' is text");
    }
};
class PickyLoss {
public:
    PickyLoss(const spotflow_host*, const char*) {}
    double compute(const spotflow_loss_io&) { throw std::invalid_argument("column 'x' is text"); }
};

const spotflow_node_vtable kNode = spotflow::node_vtable<Picky>();
const spotflow_loss_vtable kLoss = spotflow::loss_vtable<PickyLoss>();
const spotflow_plugin_desc kFirst = {"test.first", "1.0.0", "first", "filter", nullptr, 0, 0, nullptr, "{}", &kNode,
                                     nullptr};
const spotflow_plugin_desc kSecond = {"test.second", "1.0.0", "second", "loss", nullptr, 0, 0, nullptr, "{}", nullptr,
                                      &kLoss};

} // namespace
} // namespace entry_test

SPOTFLOW_EXPORT_PLUGINS(entry_test::kFirst, entry_test::kSecond);

namespace {

TEST(EntryHpp, ListsTheDescriptorsInOrder) {
    EXPECT_EQ(spotflow_entry.abi.major, SPOTFLOW_ABI_MAJOR);
    EXPECT_EQ(spotflow_entry.abi.minor, SPOTFLOW_ABI_MINOR);
    ASSERT_EQ(spotflow_entry.plugin_count(), 2u);
    EXPECT_EQ(spotflow_entry.plugin(0), &entry_test::kFirst);
    EXPECT_EQ(spotflow_entry.plugin(1), &entry_test::kSecond);
    EXPECT_EQ(spotflow_entry.plugin(2), nullptr);
}

TEST(Guard, AnInvalidArgumentIsOneStatusForANodeAndALoss) {
    spotflow::testing::FakeHost host;
    spotflow::testing::NodeRunner node(entry_test::kFirst, host, "{}");
    ASSERT_TRUE(node.created()) << host.error;
    spotflow::TableBuilder b;
    b.add_column("k", spotflow::ColumnType::Int64);
    spotflow::testing::OwnedPacket p;
    p.p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&p.p.schema, &p.p.array);
    EXPECT_EQ(node.process(0, p.p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "checking 'a.csv': column 'x' is text"); // the instance's context

    void* loss = entry_test::kLoss.create(host.get(), "{}");
    ASSERT_NE(loss, nullptr);
    spotflow_loss_io io{};
    double value = 0;
    EXPECT_EQ(entry_test::kLoss.compute(loss, &io, &value), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "column 'x' is text"); // a loss's line is the message alone
    entry_test::kLoss.destroy(loss);
}

} // namespace

#include <dlfcn.h>

#include "spotflow/library_dir.hpp"

namespace {

// The folder of a library is where dlopen found it (the example plugin);
// an address of the test itself gives the test binary's folder.
TEST(LibraryDir, IsTheFolderOfTheLibraryHoldingTheAddress) {
    const std::string so = PLUGIN_PATH;
    void* lib = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(lib, nullptr) << dlerror();
    const void* entry = dlsym(lib, "spotflow_entry");
    ASSERT_NE(entry, nullptr);
    EXPECT_EQ(spotflow::library_dir(entry), so.substr(0, so.rfind('/')));
    dlclose(lib);
    int local = 0;
    EXPECT_EQ(spotflow::library_dir(&local), "."); // a stack address is in no library
}

} // namespace
