#include <gtest/gtest.h>

#include <sstream>

#include "errors.hpp"
#include "executor.hpp"
#include "test_support.hpp"

using nlohmann::json;
using namespace spotflow;

namespace {

struct GraphRun {
    PluginRegistry registry = test::test_registry();
    ResolvedGraph graph;
    std::filesystem::path out;
    ExecuteResult result;
    std::vector<std::string> committed;

    GraphRun(const json& recipe, const std::string& name, int threads = 2, size_t tokens = 0) {
        graph = resolve_recipe(parse_recipe(recipe.dump(), "r.json"), registry, {});
        out = test::fresh_dir(name);
        OutputFolder folder(out);
        ExecuteOptions opt;
        opt.threads = threads;
        opt.tokens_per_source = tokens;
        Executor ex(graph, registry, folder, opt);
        result = ex.run();
        if (result.status == ExecuteResult::Status::Ok) committed = folder.commit();
    }
    const NodeReport& node(const std::string& id) const {
        for (const auto& n : result.nodes)
            if (n.id == id) return n;
        throw std::runtime_error("no node " + id);
    }
};

json chain(int frames, int chunk, int sleep_ms = 0, int fail_at_frame = -1) {
    return {{"spotflow_recipe", 1},
            {"nodes", {{{"id", "src"}, {"plugin", "test.movie_source"}, {"params", {{"frames", frames}, {"chunk", chunk}}}},
                       {{"id", "count"}, {"plugin", "test.frame_counter"},
                        {"params", {{"sleep_ms", sleep_ms}, {"fail_at_frame", fail_at_frame}}}},
                       {{"id", "sum"}, {"plugin", "test.summary"}, {"params", {{"file", "sum.txt"}}}}}},
            {"edges", {{{"from", "src.movie"}, {"to", "count.movie"}}, {{"from", "count.frames"}, {"to", "sum.table"}}}}};
}

TEST(Executor, StreamsAMovieThroughAChainInOrder) {
    GraphRun r(chain(10, 3), "chain");
    ASSERT_EQ(r.result.status, ExecuteResult::Status::Ok) << r.result.error;
    // Frames 0..9 have mean equal to their index: sum 45, 10 rows, in order.
    EXPECT_EQ(test::read_file(r.out / "sum.txt"), "10 45 ordered\n");
    EXPECT_EQ(r.node("src").packets_out, 4); // chunks of 3, 3, 3, 1
    EXPECT_EQ(r.node("count").packets_in, 4);
    EXPECT_EQ(r.committed, std::vector<std::string>{"sum.txt"});
}

TEST(Executor, BackpressureBoundsChunksInFlight) {
    // A slow consumer: without tokens the source would queue all 40 chunks.
    GraphRun r(chain(40, 1, 3), "backpressure", 2, 3);
    ASSERT_EQ(r.result.status, ExecuteResult::Status::Ok) << r.result.error;
    EXPECT_LE(r.node("src").max_chunks_in_flight, 3u);
    EXPECT_GE(r.node("src").max_chunks_in_flight, 1u);
    EXPECT_EQ(test::read_file(r.out / "sum.txt"), "40 780 ordered\n");
}

TEST(Executor, FanOutAndFanInDeliverEveryPacketToEveryConsumer) {
    json j = {{"spotflow_recipe", 1},
              {"nodes", {{{"id", "src"}, {"plugin", "test.count_source"}, {"params", {{"chunks", 5}, {"rows", 2}}}},
                         {{"id", "a"}, {"plugin", "test.summary"}, {"params", {{"file", "a.txt"}}}},
                         {{"id", "b"}, {"plugin", "test.summary"}, {"params", {{"file", "b.txt"}}}},
                         {{"id", "both"}, {"plugin", "test.summary"}, {"params", {{"file", "both.txt"}}}}}},
              {"edges", {{{"from", "src.numbers"}, {"to", "a.table"}},
                         {{"from", "src.numbers"}, {"to", "b.table"}},
                         {{"from", "a.summary"}, {"to", "both.table"}},
                         {{"from", "b.summary"}, {"to", "both.table"}}}}};
    GraphRun r(j, "fanout");
    ASSERT_EQ(r.result.status, ExecuteResult::Status::Ok) << r.result.error;
    EXPECT_EQ(test::read_file(r.out / "a.txt"), "10 45 ordered\n");
    EXPECT_EQ(test::read_file(r.out / "b.txt"), "10 45 ordered\n");
    EXPECT_EQ(test::read_file(r.out / "both.txt"), "2 0 ordered\n"); // two one-row summaries, int columns only
}

TEST(Executor, AnErrorMidStreamStopsTheRunNamesTheNodeAndKeepsNoOutput) {
    GraphRun r(chain(20, 2, 0, 7), "midstream");
    ASSERT_EQ(r.result.status, ExecuteResult::Status::Failed);
    EXPECT_EQ(r.result.failed_node, "count");
    EXPECT_EQ(r.result.error, "node \"count\" (test.frame_counter): frame 7: asked to fail mid-stream");
    EXPECT_FALSE(std::filesystem::exists(r.out / "sum.txt"));
    EXPECT_TRUE(std::filesystem::is_empty(r.out)); // the temporary file is gone too
}

TEST(Executor, ASourceErrorIsReportedWithItsMessage) {
    json j = {{"spotflow_recipe", 1},
              {"nodes", {{{"id", "src"}, {"plugin", "test.count_source"}, {"params", {{"chunks", 5}, {"fail_at", 2}}}},
                         {{"id", "sum"}, {"plugin", "test.summary"}, {"params", {{"file", "s.txt"}}}}}},
              {"edges", {{{"from", "src.numbers"}, {"to", "sum.table"}}}}};
    GraphRun r(j, "srcfail");
    ASSERT_EQ(r.result.status, ExecuteResult::Status::Failed);
    EXPECT_EQ(r.result.error, "node \"src\" (test.count_source): chunk 2 is corrupt (asked to fail)");
    EXPECT_TRUE(std::filesystem::is_empty(r.out));
}

TEST(Executor, OutputNameThatEscapesTheFolderIsRefused) {
    // Refused when the recipe is resolved (spotflow validate), before any run.
    json j = chain(2, 1);
    j["nodes"][2]["params"]["file"] = "../escape.txt";
    try {
        GraphRun r(j, "escape");
        FAIL() << "resolved";
    } catch (const UserErrors& e) {
        EXPECT_NE(std::string(e.what()).find("nodes/2/params/file: output name '../escape.txt': must be a file name inside "
                                             "the output folder"),
                  std::string::npos)
            << e.what();
    }
    // And by the folder, for a name a plugin makes up itself.
    OutputFolder folder(test::fresh_dir("escape_claim"));
    EXPECT_THROW(folder.claim("../escape.txt", "sum"), UserError);
    EXPECT_THROW(folder.claim("run.json", "sum"), UserError);
}

TEST(Executor, ResultsDoNotDependOnThreadCount) {
    GraphRun one(chain(25, 4), "threads1", 1);
    GraphRun two(chain(25, 4), "threads2", 2);
    EXPECT_EQ(test::read_file(one.out / "sum.txt"), test::read_file(two.out / "sum.txt"));
}

TEST(Executor, BranchSecondsCountEachEdgesOwnNodesOnly) {
    // One source feeds a slow and a fast counter; both end in one summary.
    // The slow branch costs about 20 x 10 ms, the fast one nearly nothing,
    // and neither includes the shared source.
    json j = {{"spotflow_recipe", 1},
              {"nodes", {{{"id", "src"}, {"plugin", "test.movie_source"}, {"params", {{"frames", 20}, {"chunk", 1}}}},
                         {{"id", "slow"}, {"plugin", "test.frame_counter"}, {"params", {{"sleep_ms", 10}}}},
                         {{"id", "fast"}, {"plugin", "test.frame_counter"}},
                         {{"id", "sum"}, {"plugin", "test.summary"}, {"params", {{"file", "sum.txt"}, {"report_branches", true}}}}}},
              {"edges", {{{"from", "src.movie"}, {"to", "slow.movie"}},
                         {{"from", "src.movie"}, {"to", "fast.movie"}},
                         {{"from", "slow.frames"}, {"to", "sum.table"}},
                         {{"from", "fast.frames"}, {"to", "sum.table"}}}}};
    GraphRun r(j, "branches");
    ASSERT_EQ(r.result.status, ExecuteResult::Status::Ok) << r.result.error;
    std::istringstream in(test::read_file(r.out / "sum.txt"));
    std::string line, source;
    double seconds = 0;
    std::getline(in, line); // the counts
    in >> source >> seconds;
    EXPECT_EQ(source, "slow.frames");
    EXPECT_GT(seconds, 0.15);
    EXPECT_LT(seconds, 1.0);
    in >> source >> seconds;
    EXPECT_EQ(source, "fast.frames");
    EXPECT_LT(seconds, 0.1);
}

TEST(OutputFolder, NotWritableFolderIsAUserError) {
    const auto dir = test::fresh_dir("notwritable");
    std::ofstream(dir / "file") << "x";
    EXPECT_THROW(OutputFolder(dir / "file" / "sub"), UserError); // a file in the way, even for root
}

} // namespace
