// run.json's warnings and host->record (ABI 1.1): what a node logs at
// WARNING level and what it records reach its entry in run.json.
#include <gtest/gtest.h>

#include "node_host.hpp"
#include "provenance.hpp"

using namespace spotflow;

TEST(Provenance, WarningsAndRecordsReachRunJson) {
    RunState run;
    NodeHost host("detect", &run, nullptr, 1);
    const spotflow_host* h = &host.table;
    ASSERT_GE(h->abi.minor, 1u);
    ASSERT_NE(h->record, nullptr);
    h->log(h, SPOTFLOW_LOG_INFO, "not kept");
    h->log(h, SPOTFLOW_LOG_WARNING, "3 puncta in 120 frames");
    h->record(h, "camera", R"({"kind": "emccd", "estimated": true})");
    h->record(h, "note", "not json");
    h->record(h, "camera", R"({"kind": "scmos", "estimated": false})"); // a later call replaces

    ExecuteResult res;
    NodeReport n;
    n.id = "detect";
    n.plugin = "detect.wavelet";
    n.warnings = host.warnings;
    n.records = host.records;
    res.nodes.push_back(n);
    ResolvedGraph graph;
    RunRecord rec;
    rec.graph = &graph;
    rec.result = &res;
    const auto j = make_run_json(rec);
    ASSERT_EQ(j["warnings"].size(), 1u);
    EXPECT_EQ(j["warnings"][0]["node"], "detect");
    EXPECT_EQ(j["warnings"][0]["message"], "3 puncta in 120 frames");
    EXPECT_EQ(j["nodes"][0]["camera"]["kind"], "scmos");
    EXPECT_EQ(j["nodes"][0]["camera"]["estimated"], false);
    EXPECT_EQ(j["nodes"][0]["note"], "not json");
    EXPECT_EQ(j["nodes"][0]["plugin"], "detect.wavelet");
}
