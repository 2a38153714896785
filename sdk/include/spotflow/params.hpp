// spotflow/params.hpp: for C++ plugins, reading the params JSON the host
// validated against the plugin's schema (defaults filled). Header-only; needs
// nlohmann_json (link nlohmann_json::nlohmann_json).
//
//   Params parse_params(const char* json) {
//       return spotflow::read_params(json, [](const nlohmann::json& j) -> Params {
//           return {j.at("file").get<std::string>(), j.at("scale").get<int>()};
//       });
//   }
//
// Threading: no state; call from any thread.
#pragma once

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "spotflow/plugin_error.hpp"

namespace spotflow {

// read(json) on the parsed params; a JSON error (text that does not parse, a
// missing key, a wrong type) becomes PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
// "invalid params: ..."). Whatever read throws otherwise passes through.
template <class F> auto read_params(const char* params_json, F&& read) {
    try {
        return std::forward<F>(read)(nlohmann::json::parse(params_json));
    } catch (const nlohmann::json::exception& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("invalid params: ") + e.what());
    }
}

} // namespace spotflow
