#include <gtest/gtest.h>

#include "errors.hpp"
#include "recipe.hpp"
#include "test_support.hpp"

using nlohmann::json;
using namespace spotflow;

namespace {

// Resolves a recipe given as JSON text; returns the error lines ("" if ok).
std::vector<std::string> problems(const std::string& text, ResolveOptions opt = {}) {
    try {
        PluginRegistry r = test::test_registry();
        Recipe recipe = parse_recipe(text, "r.json");
        resolve_recipe(recipe, r, opt);
        return {};
    } catch (const UserErrors& e) {
        return e.all();
    } catch (const UserError& e) {
        return {e.what()};
    }
}

const char* kChain = R"({"spotflow_recipe": 1,
  "nodes": [{"id": "src", "plugin": "test.movie_source", "params": {"frames": 6}},
            {"id": "count", "plugin": "test.frame_counter"},
            {"id": "sum", "plugin": "test.summary"}],
  "edges": [{"from": "src.movie", "to": "count.movie"}, {"from": "count.frames", "to": "sum.table"}]})";

TEST(Recipe, MalformedJsonGivesLineAndColumn) {
    const auto p = problems("{\n  \"spotflow_recipe\": 1,\n  \"nodes\": [}\n");
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].rfind("r.json:3:", 0), 0u) << p[0];
    EXPECT_NE(p[0].find("malformed JSON"), std::string::npos);
}

TEST(Recipe, SchemaViolationNamesPointer) {
    const auto p = problems(R"({"spotflow_recipe": 1, "nodes": [{"id": "Bad Id", "plugin": "x"}]})");
    ASSERT_EQ(p.size(), 1u);
    EXPECT_NE(p[0].find("nodes/0/id"), std::string::npos) << p[0];
}

TEST(Recipe, ResolvesAChainInTopologicalOrderWithDefaults) {
    PluginRegistry r = test::test_registry();
    Recipe recipe = parse_recipe(kChain, "r.json");
    const ResolvedGraph g = resolve_recipe(recipe, r, {});
    ASSERT_EQ(g.nodes.size(), 3u);
    EXPECT_EQ(g.nodes[0].id, "src");
    EXPECT_EQ(g.nodes[2].id, "sum");
    EXPECT_EQ(g.nodes[0].params["frames"], 6);
    EXPECT_EQ(g.nodes[0].params["chunk"], 4); // default filled
    EXPECT_EQ(g.edges.size(), 2u);
    EXPECT_EQ(g.resolved_recipe["nodes"][1]["params"]["sleep_ms"], 0);
}

TEST(Recipe, ParamViolationNamesPointerNodeAndBound) {
    auto text = json::parse(kChain);
    text["nodes"][0]["params"]["chunk"] = -3;
    const auto p = problems(text.dump());
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0], "r.json: nodes/0/params/chunk: -3 is less than the minimum 1 (node \"src\", plugin test.movie_source)");
}

TEST(Recipe, UnknownPlugin) {
    auto text = json::parse(kChain);
    text["nodes"][1]["plugin"] = "link.nothing";
    const auto p = problems(text.dump());
    ASSERT_FALSE(p.empty());
    EXPECT_NE(p[0].find("nodes/1/plugin: unknown plugin 'link.nothing'"), std::string::npos) << p[0];
}

TEST(Recipe, PortTypeMismatchIsAValidationError) {
    auto text = json::parse(kChain);
    text["edges"][1] = {{"from", "count.frames"}, {"to", "count.movie"}};
    const auto p = problems(text.dump());
    ASSERT_FALSE(p.empty());
    EXPECT_NE(p[0].find("count.frames gives 'detections' but count.movie takes 'movie'"), std::string::npos) << p[0];
}

// ABI 1.1's "probability" (plugin.h): a tensor type of its own. It feeds a
// "probability" or any-"tensor" input, not a "movie" or "mask" one, and no
// tensor of another type feeds a "probability" input.
TEST(Recipe, ProbabilityPortsTakeProbabilityOrFeedAnyTensor) {
    const auto port = [](const char* type, spotflow_data_kind kind = SPOTFLOW_DATA_TENSOR) {
        return spotflow_port_desc{"p", type, kind, 0, ""};
    };
    const auto prob = port(SPOTFLOW_TYPE_PROBABILITY);
    EXPECT_TRUE(port_accepts(prob, prob));
    EXPECT_TRUE(port_accepts(port(SPOTFLOW_TYPE_TENSOR), prob));
    EXPECT_FALSE(port_accepts(port(SPOTFLOW_TYPE_MOVIE), prob));
    EXPECT_FALSE(port_accepts(port(SPOTFLOW_TYPE_MASK), prob));
    EXPECT_FALSE(port_accepts(prob, port(SPOTFLOW_TYPE_MOVIE)));
    EXPECT_FALSE(port_accepts(prob, port(SPOTFLOW_TYPE_TENSOR)));
    EXPECT_FALSE(port_accepts(port(SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE), prob));
}

TEST(Recipe, UnknownPortAndNode) {
    auto text = json::parse(kChain);
    text["edges"][0]["from"] = "src.frames";
    text["edges"][1]["to"] = "nowhere.table";
    const auto p = problems(text.dump());
    ASSERT_GE(p.size(), 2u);
    EXPECT_NE(p[0].find("edges/0/from: node \"src\" (test.movie_source) has no output port 'frames' (outputs: movie)"),
              std::string::npos) << p[0];
    EXPECT_NE(p[1].find("edges/1/to: no node \"nowhere\""), std::string::npos) << p[1];
}

TEST(Recipe, DanglingRequiredInput) {
    auto text = json::parse(kChain);
    text["edges"].erase(0);
    const auto p = problems(text.dump());
    ASSERT_EQ(p.size(), 1u);
    EXPECT_NE(p[0].find("input port 'movie' of node \"count\" (test.frame_counter) is not connected"), std::string::npos);
}

TEST(Recipe, DuplicateIds) {
    auto text = json::parse(kChain);
    text["nodes"][2]["id"] = "count";
    const auto p = problems(text.dump());
    ASSERT_FALSE(p.empty());
    EXPECT_NE(p[0].find("nodes/2/id: duplicate node id \"count\""), std::string::npos) << p[0];
}

TEST(Recipe, SingleInputTakesOneEdge) {
    auto text = json::parse(kChain);
    text["nodes"].push_back({{"id", "src2"}, {"plugin", "test.movie_source"}});
    text["edges"].push_back({{"from", "src2.movie"}, {"to", "count.movie"}});
    const auto p = problems(text.dump());
    ASSERT_EQ(p.size(), 1u);
    EXPECT_NE(p[0].find("takes one edge, the recipe gives it 2"), std::string::npos);
}

TEST(Recipe, CycleIsReported) {
    const auto p = problems(R"({"spotflow_recipe": 1,
      "nodes": [{"id": "a", "plugin": "test.summary"}, {"id": "b", "plugin": "test.summary"}],
      "edges": [{"from": "a.summary", "to": "b.table"}, {"from": "b.summary", "to": "a.table"}]})");
    ASSERT_EQ(p.size(), 1u);
    EXPECT_NE(p[0].find("cycle through nodes a, b"), std::string::npos) << p[0];
}

const char* kWithInput = R"({"spotflow_recipe": 1,
  "inputs": {"movie": {"description": "a movie"}, "extra": {"optional": true}},
  "nodes": [{"id": "src", "plugin": "test.count_source"},
            {"id": "sum", "plugin": "test.summary", "params": {"file": "${inputs.movie}.txt"}},
            {"id": "opt", "plugin": "test.summary", "params": {"file": "${inputs.extra}"}},
            {"id": "after", "plugin": "test.summary"}],
  "edges": [{"from": "src.numbers", "to": "sum.table"}, {"from": "src.numbers", "to": "opt.table"},
            {"from": "opt.summary", "to": "after.table"}]})";

TEST(Recipe, InputsAreSubstitutedAndUnboundOptionalBranchesDropped) {
    PluginRegistry r = test::test_registry();
    Recipe recipe = parse_recipe(kWithInput, "r.json");
    ResolveOptions opt;
    opt.inputs["movie"] = "/data/m.tif";
    const ResolvedGraph g = resolve_recipe(recipe, r, opt);
    ASSERT_EQ(g.nodes.size(), 2u); // opt and, through it, after are dropped
    EXPECT_EQ(g.nodes[1].params["file"], "/data/m.tif.txt");
    EXPECT_EQ(g.edges.size(), 1u);
}

TEST(Recipe, UnboundRequiredInputAndUnknownInputName) {
    auto p = problems(kWithInput);
    ASSERT_FALSE(p.empty());
    EXPECT_NE(p[0].find("input 'movie' is not bound: pass --input movie=PATH"), std::string::npos) << p[0];

    ResolveOptions opt;
    opt.inputs["moovie"] = "/x";
    p = problems(kWithInput, opt);
    ASSERT_EQ(p.size(), 1u);
    EXPECT_NE(p[0].find("the recipe has no input 'moovie' (inputs: extra, movie)"), std::string::npos) << p[0];
}

TEST(Recipe, CheckingOnlyListsUnboundInputsAndKeepsEveryNode) {
    // spotflow validate without --input: no error, every node checked (the
    // optional branch too), the references left as written, the inputs to
    // bind listed with the nodes that use them.
    PluginRegistry r = test::test_registry();
    ResolveOptions opt;
    opt.defer_unbound = true;
    const ResolvedGraph g = resolve_recipe(parse_recipe(kWithInput, "r.json"), r, opt);
    ASSERT_EQ(g.nodes.size(), 4u);
    EXPECT_EQ(g.edges.size(), 3u);
    for (const auto& n : g.nodes) {
        if (n.id == "sum") {
            EXPECT_EQ(n.params["file"], "${inputs.movie}.txt");
        }
    }
    ASSERT_EQ(g.unbound.size(), 2u); // by name
    EXPECT_EQ(g.unbound[0].name, "extra");
    EXPECT_TRUE(g.unbound[0].optional);
    EXPECT_EQ(g.unbound[0].nodes, std::vector<std::string>{"opt"});
    EXPECT_EQ(g.unbound[1].name, "movie");
    EXPECT_FALSE(g.unbound[1].optional);
    EXPECT_EQ(g.unbound[1].nodes, std::vector<std::string>{"sum"});

    // A bound input is substituted and not listed.
    opt.inputs["movie"] = "/data/m.tif";
    const ResolvedGraph h = resolve_recipe(parse_recipe(kWithInput, "r.json"), r, opt);
    ASSERT_EQ(h.unbound.size(), 1u);
    EXPECT_EQ(h.unbound[0].name, "extra");

    // Params and wiring are still checked.
    json bad = json::parse(kWithInput);
    bad["nodes"][0]["params"] = {{"rows", 0}};
    const auto p = problems(bad.dump(), opt);
    ASSERT_EQ(p.size(), 1u);
    EXPECT_NE(p[0].find("nodes/0/params/rows: 0 is less than the minimum 1"), std::string::npos) << p[0];
}

TEST(Recipe, SetOverridesParamsAsJsonOrString) {
    Recipe recipe = parse_recipe(kChain, "r.json");
    apply_override(recipe, "src.frames=9");
    apply_override(recipe, "sum.file=out name.txt");
    EXPECT_EQ(recipe.doc["nodes"][0]["params"]["frames"], 9);
    EXPECT_EQ(recipe.doc["nodes"][2]["params"]["file"], "out name.txt");
    EXPECT_THROW(apply_override(recipe, "nope.x=1"), UserError);
    EXPECT_THROW(apply_override(recipe, "src=1"), UserError);
}

} // namespace
