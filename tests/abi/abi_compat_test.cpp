// abi_compat_test: ABI 1.1 keeps 1.0 plugins working, and its new services
// do what host.h says. The 1.0 plugin (v1_0_plugin.c) is built against a
// frozen copy of the 1.0 headers and keeps its descriptors and vtables at
// the end of a readable page, so any host read past a 1.0 struct crashes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include "errors.hpp"
#include "executor.hpp"
#include "output_folder.hpp"
#include "provenance.hpp"

using nlohmann::json;
using namespace spotflow;
namespace fs = std::filesystem;

namespace {

const fs::path kPlugins = ABI_PLUGIN_DIR;

fs::path fresh_dir(const std::string& name) {
    const auto d = fs::temp_directory_path() / ("spotflow-abi-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> listing(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

PluginRegistry registry() {
    PluginRegistry r;
    for (const char* sub : {"v1_0", "trainer", "losses"}) r.add_folder(kPlugins / sub);
    for (const auto& p : r.problems()) ADD_FAILURE() << p.path << ": " << p.reason;
    return r;
}

struct GraphRun {
    PluginRegistry reg = registry();
    ResolvedGraph graph;
    fs::path out;
    ExecuteResult result;
    std::vector<std::string> committed, published, logs;

    GraphRun(const json& recipe, const std::string& name) {
        graph = resolve_recipe(parse_recipe(recipe.dump(), "r.json"), reg, {});
        out = fresh_dir(name);
        OutputFolder folder(out);
        ExecuteOptions opt;
        opt.threads = 2;
        opt.log = [this](const std::string& node, int32_t, const std::string& m) { logs.push_back(node + ": " + m); };
        Executor ex(graph, reg, folder, opt);
        result = ex.run();
        published = folder.published();
        if (result.status == ExecuteResult::Status::Ok) committed = folder.commit();
        else folder.rollback();
    }
};

json trainer_recipe(const std::string& loss, int fail) {
    return {{"spotflow_recipe", 1},
            {"nodes", {{{"id", "train"}, {"plugin", "abi11.trainer"}, {"params", {{"loss", loss}, {"fail", fail}}}}}}};
}

TEST(AbiCompat, A1_0LibraryLoadsAndIsKnownAs1_0) {
    PluginRegistry r = registry();
    for (const char* id : {"v10.source", "v10.writer", "v10.mse"}) {
        const PluginInfo* p = r.find(id);
        ASSERT_NE(p, nullptr) << id;
        EXPECT_EQ(p->abi.major, 1u);
        EXPECT_EQ(p->abi.minor, 0u);
        EXPECT_EQ(fs::path(p->folder), fs::absolute(kPlugins / "v1_0").lexically_normal());
    }
    EXPECT_EQ(r.find("abi11.trainer")->abi.minor, static_cast<uint32_t>(SPOTFLOW_ABI_MINOR));
}

TEST(AbiCompat, A1_0SourceAndWriterRunInThisHost) {
    // 10 frames of 2 x 2 pixels holding the frame index, in chunks of 3:
    // sum 4 x (0 + ... + 9) = 180; 4 chunks, all released before the
    // writer's finish; the 1.0 plugin sees a 1.1 host.
    GraphRun r({{"spotflow_recipe", 1},
           {"nodes", {{{"id", "src"}, {"plugin", "v10.source"}, {"params", {{"frames", 10}, {"chunk", 3}}}},
                      {{"id", "out"}, {"plugin", "v10.writer"}}}},
           {"edges", {{{"from", "src.movie"}, {"to", "out.movie"}}}}},
          "v10");
    ASSERT_EQ(r.result.status, ExecuteResult::Status::Ok) << r.result.error;
    EXPECT_EQ(slurp(r.out / "v10.txt"), "frames 10 sum 180 released 4 host 1." + std::to_string(SPOTFLOW_ABI_MINOR) + "\n");
    EXPECT_EQ(r.committed, std::vector<std::string>{"v10.txt"});
}

TEST(AbiCompat, A1_0LossVtableIsWidenedWithNullTail) {
    PluginRegistry r = registry();
    const PluginInfo* p = r.find("v10.mse");
    ASSERT_NE(p, nullptr);
    ASSERT_NE(p->loss_vtable, nullptr);
    // On LP64 the 1.0 table is five pointers.
    EXPECT_EQ(loss_vtable_bytes(0), 5 * sizeof(void*));
    EXPECT_EQ(loss_vtable_bytes(SPOTFLOW_ABI_MINOR), sizeof(spotflow_loss_vtable));
    EXPECT_EQ(p->loss_vtable->create, p->desc->loss->create);
    EXPECT_EQ(p->loss_vtable->compute, p->desc->loss->compute);
    EXPECT_EQ(p->loss_vtable->destroy, p->desc->loss->destroy);
    const auto* bytes = reinterpret_cast<const unsigned char*>(p->loss_vtable.get());
    for (size_t k = loss_vtable_bytes(0); k < sizeof(spotflow_loss_vtable); ++k) EXPECT_EQ(bytes[k], 0) << k;
}

TEST(AbiCompat, ATrainerPublishesCheckpointsAndUsesA1_0Loss) {
    GraphRun r(trainer_recipe("v10.mse", 0), "publish");
    ASSERT_EQ(r.result.status, ExecuteResult::Status::Ok) << r.result.error;
    // MSE of (1, 2, 3) against (0, 2, 5): (1 + 0 + 4) / 3; gradient 2 (p - t) / 3.
    // Publishing twice without a new claim, or a name never claimed: -1.
    EXPECT_EQ(slurp(r.out / "ckpt.txt"), "v2 loss 1.666667 grad 0.666667 0.000000 -1.333333 tail_null 1 "
                                         "publish_twice -1 publish_unclaimed -1\n");
    EXPECT_EQ(slurp(r.out / "final.txt"), "final\n");
    EXPECT_EQ(r.published, std::vector<std::string>{"ckpt.txt"});
    EXPECT_EQ(r.committed, (std::vector<std::string>{"ckpt.txt", "final.txt"}));
    EXPECT_EQ(listing(r.out), (std::vector<std::string>{"ckpt.txt", "final.txt"}));

    // run.json: the loss library is hashed like the node's, with its ABI.
    ASSERT_EQ(r.result.losses.size(), 1u);
    EXPECT_EQ(r.result.losses[0].node, "train");
    RunRecord rec;
    rec.graph = &r.graph;
    rec.result = &r.result;
    rec.outputs = r.committed;
    rec.published = r.published;
    const json j = make_run_json(rec);
    ASSERT_EQ(j["plugins"].size(), 2u);
    EXPECT_EQ(j["plugins"][0]["plugin"], "abi11.trainer");
    const json& loss = j["plugins"][1];
    EXPECT_EQ(loss["plugin"], "v10.mse");
    EXPECT_EQ(loss["kind"], "loss");
    EXPECT_EQ(loss["node"], "train");
    EXPECT_EQ(loss["abi"], "1.0");
    EXPECT_TRUE(std::regex_match(loss["sha256"].get<std::string>(), std::regex("[0-9a-f]{64}")));
    EXPECT_EQ(fs::path(loss["library"].get<std::string>()).filename(), "abi_v1_0_plugin.so");
    EXPECT_EQ(j["published"], json::array({"ckpt.txt"}));
    EXPECT_FALSE(j.contains("kept_after_failure"));
}

TEST(AbiCompat, AFailedRunKeepsPublishedOutputsOnly) {
    GraphRun r(trainer_recipe("v10.mse", 1), "publish-fail");
    ASSERT_EQ(r.result.status, ExecuteResult::Status::Failed);
    EXPECT_NE(r.result.error.find("asked to fail after publishing"), std::string::npos) << r.result.error;
    // The published checkpoint (its second version) stays; the unpublished
    // final.txt and every temporary file are gone.
    EXPECT_EQ(listing(r.out), std::vector<std::string>{"ckpt.txt"});
    EXPECT_EQ(slurp(r.out / "ckpt.txt").substr(0, 3), "v2 ");
    RunRecord rec;
    rec.graph = &r.graph;
    rec.result = &r.result;
    rec.outputs = r.published;
    rec.published = r.published;
    const json j = make_run_json(rec);
    EXPECT_EQ(j["status"], "failed");
    EXPECT_EQ(j["outputs"], json::array({"ckpt.txt"}));
    EXPECT_EQ(j["kept_after_failure"], "1 published output(s) kept: published mid-run, they are final");
}

TEST(AbiCompat, PluginDirIsEachLibrarysOwnFolderAlsoForALoss) {
    GraphRun r(trainer_recipe("abi11.dir_loss", 0), "dirs");
    ASSERT_EQ(r.result.status, ExecuteResult::Status::Ok) << r.result.error;
    const std::string trainer_dir = fs::absolute(kPlugins / "trainer").lexically_normal().string();
    const std::string loss_dir = fs::absolute(kPlugins / "losses").lexically_normal().string();
    EXPECT_NE(std::find(r.logs.begin(), r.logs.end(), "train: trainer plugin_dir " + trainer_dir), r.logs.end());
    EXPECT_NE(std::find(r.logs.begin(), r.logs.end(), "train: loss plugin_dir " + loss_dir), r.logs.end());
}

TEST(AbiCompat, OutputFolderPublishRules) {
    const fs::path dir = fresh_dir("folder");
    {
        OutputFolder f(dir);
        const fs::path a = f.claim("a.txt", "n1");
        EXPECT_THROW(f.publish("a.txt", "n1"), IoError);    // nothing written yet
        std::ofstream(a) << "a1";
        EXPECT_THROW(f.publish("a.txt", "n2"), UserError);  // not n2's
        EXPECT_THROW(f.claim("a.txt", "n1"), UserError);    // pending: publish first
        f.publish("a.txt", "n1");
        EXPECT_EQ(slurp(dir / "a.txt"), "a1");
        EXPECT_THROW(f.claim("a.txt", "n2"), UserError);    // still n1's name
        std::ofstream(f.claim("a.txt", "n1")) << "a2";      // a newer version
        EXPECT_EQ(slurp(dir / "a.txt"), "a1");              // not final until published
        std::ofstream(f.claim("b.txt", "n2")) << "b";
        f.rollback();                                       // the run failed
    }
    EXPECT_EQ(listing(dir), std::vector<std::string>{"a.txt"});
    EXPECT_EQ(slurp(dir / "a.txt"), "a1");
}

} // namespace
