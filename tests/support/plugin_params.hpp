// tests/support/plugin_params.hpp: a plugin's params as the host would pass
// them (schema defaults filled in), for tests and benches that drive a
// plugin through plugin_harness.hpp, which passes params as given.
#pragma once

#include <nlohmann/json.hpp>

#include "spotflow/plugin.h"

namespace spotflow::testing {

// The defaults of the plugin's params schema, then `overrides` on top.
inline nlohmann::json params_with_defaults(const spotflow_plugin_desc& d, const nlohmann::json& overrides) {
    nlohmann::json p = nlohmann::json::object();
    const auto schema = nlohmann::json::parse(d.params_schema); // named: alive through the loop
    for (const auto& [k, v] : schema["properties"].items())
        if (v.contains("default")) p[k] = v["default"];
    for (const auto& [k, v] : overrides.items()) p[k] = v;
    return p;
}

} // namespace spotflow::testing
