#include "nodes.hpp"

#include <fmt/format.h>

#include "spotflow/entry.hpp"
#include "spotflow/plugin_error.hpp"

namespace sim {

std::string params_schema(const std::string& extra_properties) {
    return std::string(R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "properties": {)") +
           extra_properties + kPhysicsSchemaProperties + "\n  }\n}";
}

SimParams read_params(const char* json_text, nlohmann::json* all) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(json_text);
    } catch (const nlohmann::json::exception& e) {
        throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("params are not JSON: ") + e.what());
    }
    SimParams p = parse_params(j);
    if (all) *all = std::move(j);
    return p;
}

uint64_t effective_seed(const spotflow_host* host, int64_t seed_param) {
    if (seed_param >= 0) return static_cast<uint64_t>(seed_param);
    const uint64_t seed = host->seed(host) >> 1;
    host->log(host, SPOTFLOW_LOG_INFO, fmt::format("seed {} (from the run's seed)", seed).c_str());
    return seed;
}

} // namespace sim

SPOTFLOW_EXPORT_PLUGINS(sim::kTirfDesc, sim::kDatasetDesc);
