#include "provenance.hpp"

#include <ctime>

#include <fmt/format.h>

#include "spotflow/version.h"
#include "version_info.hpp"

namespace spotflow {

std::string utc_now_iso8601() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

nlohmann::json make_run_json(const RunRecord& r) {
    using nlohmann::json;
    const ExecuteResult& res = *r.result;
    json j;
    j["spotflow_version"] = kSpotflowVersion;
    j["plugin_abi"] = fmt::format("{}.{}", SPOTFLOW_ABI_MAJOR, SPOTFLOW_ABI_MINOR);
    j["command_line"] = r.command_line;
    j["started_at"] = r.started_at;
    j["finished_at"] = utc_now_iso8601();
    j["status"] = res.status == ExecuteResult::Status::Ok ? "ok"
                  : res.status == ExecuteResult::Status::Interrupted ? "interrupted" : "failed";
    j["exit_code"] = res.status == ExecuteResult::Status::Ok ? 0 : res.status == ExecuteResult::Status::Interrupted ? 130 : res.failed_at_create ? 2 : 1;
    if (!res.error.empty()) j["error"] = res.error;
    if (!res.failed_node.empty()) j["failed_node"] = res.failed_node;
    j["threads"] = r.threads;
    j["seed"] = r.graph->seed;
    j["wall_seconds"] = res.wall_seconds;
    j["recipe"] = r.graph->resolved_recipe;
    // Every library whose code ran: each node's plugin, then each loss a
    // node created (a trainer's loss changes its result as much as the
    // trainer does), with the node that used it.
    const auto library = [](const std::string& node, const PluginInfo& p) {
        return json{{"node", node},
                    {"plugin", p.desc->id},
                    {"kind", p.desc->kind},
                    {"version", p.desc->version},
                    {"abi", fmt::format("{}.{}", p.abi.major, p.abi.minor)},
                    {"library", p.path.string()},
                    {"sha256", p.library_sha256()}};
    };
    j["plugins"] = json::array();
    for (const auto& n : r.graph->nodes) j["plugins"].push_back(library(n.id, *n.plugin));
    for (const auto& l : res.losses) j["plugins"].push_back(library(l.node, *l.plugin));
    j["nodes"] = json::array();
    j["warnings"] = json::array(); // every node's WARNING log lines, in node order
    for (const auto& n : res.nodes) {
        json node = {{"id", n.id},
                     {"plugin", n.plugin},
                     {"busy_seconds", n.busy_seconds},
                     {"wall_seconds", n.wall_seconds},
                     {"packets_in", n.packets_in},
                     {"packets_out", n.packets_out}};
        // host->record's keys; the fields above are the host's and win.
        for (const auto& [key, value] : n.records.items())
            if (!node.contains(key)) node[key] = value;
        j["nodes"].push_back(std::move(node));
        for (const auto& w : n.warnings) j["warnings"].push_back({{"node", n.id}, {"message", w}});
    }
    j["outputs"] = r.outputs;
    j["published"] = r.published;
    if (res.status != ExecuteResult::Status::Ok && !r.published.empty())
        j["kept_after_failure"] = fmt::format("{} published output(s) kept: published mid-run, they are final",
                                              r.published.size());
    return j;
}

} // namespace spotflow
