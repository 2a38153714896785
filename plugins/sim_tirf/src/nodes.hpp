// The library's two plugins and what they share: the params schema and the
// choice of seed.
#pragma once

#include <cstdint>
#include <string>

#include "spotflow_sim/params.hpp"
#include "spotflow/plugin.h"

namespace sim {

constexpr const char* kVersion = "1.0.0";

extern const spotflow_plugin_desc kTirfDesc;
extern const spotflow_plugin_desc kDatasetDesc;

// A draft-7 params schema: extra_properties (JSON members, may be empty) and
// the physics properties.
std::string params_schema(const std::string& extra_properties);

// Parses the params JSON text into the physics params; bad JSON or a bad
// param throws spotflow::PluginError naming it.
SimParams read_params(const char* json_text, nlohmann::json* all = nullptr);

// The seed param, or for -1 the host's seed for this node, kept to 63 bits
// so that it can be given back as a seed param; logged when it comes from the
// host so that the run can be repeated.
uint64_t effective_seed(const spotflow_host* host, int64_t seed_param);

} // namespace sim
