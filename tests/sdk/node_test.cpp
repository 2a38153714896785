// spotflow/node.hpp: a C++ class becomes a vtable with exactly the members it
// has, its exceptions become a status and one error line, and a failing
// constructor makes create return NULL.
#include <gtest/gtest.h>

#include <string>

#include "plugin_harness.hpp"
#include "spotflow/node.hpp"

using spotflow::testing::FakeHost;
using spotflow::testing::NodeRunner;

namespace {

// A source: counts to `n` (its params are the number as text), one row per
// pull; an "n" of -1 is refused at create.
class Counter {
public:
    static constexpr const char* kContext = "counting";
    Counter(const spotflow_host*, const char* params) : n_(std::stoi(params)) {
        if (n_ < 0) throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "n must be >= 0");
    }
    spotflow_status pull(const spotflow_emitter* out) {
        if (next_ == n_) return SPOTFLOW_DONE;
        spotflow::TableBuilder b;
        b.append_int(b.add_column("k", spotflow::ColumnType::Int64), next_++);
        const spotflow_status s = spotflow::emit_table(out, 0, b, spotflow::table_info());
        return s;
    }

private:
    int n_;
    int next_ = 0;
};

// A filter with process and finish; a packet on port 1 is an error.
class Tally {
public:
    Tally(const spotflow_host*, const char*) {}
    spotflow_status process(const spotflow_input& in, const spotflow_packet& p, const spotflow_emitter*) {
        if (in.port == 1) throw std::runtime_error("port 1 is not wired");
        rows_ += spotflow::TableView(p.schema, p.array).rows();
        return SPOTFLOW_OK;
    }
    spotflow_status finish(const spotflow_emitter* out) {
        spotflow::TableBuilder b;
        b.append_int(b.add_column("rows", spotflow::ColumnType::Int64), rows_);
        return spotflow::emit_table(out, 0, b, spotflow::table_info());
    }

private:
    int64_t rows_ = 0;
};

// A sink without finish.
class Drop {
public:
    Drop(const spotflow_host*, const char*) {}
    spotflow_status process(const spotflow_input&, const spotflow_packet&, const spotflow_emitter*) { return SPOTFLOW_OK; }
};

spotflow_plugin_desc desc_of(const spotflow_node_vtable& vt) {
    spotflow_plugin_desc d{};
    d.node = &vt;
    return d;
}

const spotflow_node_vtable kCounter = spotflow::node_vtable<Counter>();
const spotflow_node_vtable kTally = spotflow::node_vtable<Tally>();
const spotflow_node_vtable kDrop = spotflow::node_vtable<Drop>();

TEST(NodeHpp, VtableHasExactlyTheMembersTheClassHas) {
    EXPECT_NE(kCounter.pull, nullptr);
    EXPECT_EQ(kCounter.process, nullptr);
    EXPECT_NE(kCounter.finish, nullptr); // the host requires finish: a no-op
    EXPECT_EQ(kTally.pull, nullptr);
    EXPECT_NE(kTally.process, nullptr);
    EXPECT_NE(kTally.finish, nullptr);
    EXPECT_NE(kDrop.finish, nullptr);
    EXPECT_EQ(kDrop.finish(nullptr, nullptr), SPOTFLOW_OK);
    for (const auto* v : {&kCounter, &kTally, &kDrop}) {
        EXPECT_NE(v->create, nullptr);
        EXPECT_NE(v->destroy, nullptr);
    }
}

TEST(NodeHpp, ASourceAndAFilterRunThroughTheAbi) {
    FakeHost host;
    const auto counter = desc_of(kCounter);
    NodeRunner source(counter, host, "3");
    ASSERT_TRUE(source.created()) << host.error;
    ASSERT_EQ(source.pull_all(), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(source.emitted.size(), 3u);
    EXPECT_EQ(source.emitted[2]->table().get_int(0, 0), 2);
    EXPECT_EQ(source.emitted[2]->p.info.total_frames, -1);

    const auto tally = desc_of(kTally);
    NodeRunner filter(tally, host, "");
    for (const auto& p : source.emitted) ASSERT_EQ(filter.process(0, p->p), SPOTFLOW_OK);
    ASSERT_EQ(filter.finish(), SPOTFLOW_OK);
    EXPECT_EQ(filter.emitted.at(0)->table().get_int(0, 0), 3);
}

TEST(NodeHpp, AThrowingConstructorGivesNullAndOneLine) {
    FakeHost host;
    const auto counter = desc_of(kCounter);
    NodeRunner bad(counter, host, "-1");
    EXPECT_FALSE(bad.created());
    EXPECT_EQ(host.error, "n must be >= 0");
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_INVALID_ARGUMENT);
}

TEST(NodeHpp, AnExceptionInACallIsAStatusNamingTheContext) {
    FakeHost host;
    const auto tally = desc_of(kTally);
    NodeRunner filter(tally, host, "");
    spotflow::TableBuilder b;
    b.add_column("k", spotflow::ColumnType::Int64);
    spotflow::testing::OwnedPacket p;
    p.p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&p.p.schema, &p.p.array);
    EXPECT_EQ(filter.process(1, p.p), SPOTFLOW_ERR_INTERNAL);
    EXPECT_EQ(host.error, "node: port 1 is not wired");
}

TEST(NodeHpp, OutputPathNamesARefusedFile) {
    FakeHost host;
    EXPECT_NE(spotflow::output_path(host.get(), "a.csv").find("a.csv"), std::string::npos);
    const std::string long_name(5000, 'x');
    try {
        spotflow::output_path(host.get(), long_name);
        FAIL() << "expected a PluginError";
    } catch (const spotflow::PluginError& e) {
        EXPECT_EQ(e.status, SPOTFLOW_ERR_IO);
        EXPECT_NE(std::string(e.what()).find("the output folder is not writable"), std::string::npos);
    }
}

} // namespace
