// Recipes: parsing, binding inputs and overrides, and resolving them against
// the loaded plugins into a checked graph ready to execute.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugin_registry.hpp"

namespace spotflow {

struct Recipe {
    std::filesystem::path file;   // where it was read from ("" if from a string)
    nlohmann::json doc;           // as written, after --set overrides
};

// Reads and checks a recipe against schemas/recipe.schema.json. Throws
// UserErrors: malformed JSON with line and column, or schema violations
// each naming the JSON pointer.
// A recipe is at most kMaxRecipeBytes and nests at most kMaxRecipeDepth
// levels; a path that is no regular file (a device, a FIFO) is refused.
inline constexpr size_t kMaxRecipeBytes = size_t{16} << 20;
inline constexpr size_t kMaxRecipeDepth = 64;
Recipe load_recipe_file(const std::filesystem::path& file);
// JSON text to a document, every problem a UserError naming `what` with line
// and column (syntax, nesting deeper than kMaxRecipeDepth, numbers beyond a double).
nlohmann::json parse_json_checked(const std::string& text, const std::string& what);
// "" for a regular file (or one that does not exist), else why it is not one.
std::string not_regular_file(const std::filesystem::path& file);
Recipe parse_recipe(const std::string& text, const std::filesystem::path& file_for_messages);

// --set NODE.PARAM=VALUE: VALUE is read as JSON if it parses, else as a
// string. PARAM may be a path into nested params (a.b).
void apply_override(Recipe& recipe, const std::string& assignment);

struct PortRef {
    size_t node = 0; // index into ResolvedGraph::nodes
    int32_t port = 0;
};

struct ResolvedNode {
    std::string id;
    const PluginInfo* plugin = nullptr;
    nlohmann::json params; // validated, defaults filled, inputs substituted
    size_t recipe_index = 0;
};

struct ResolvedEdge {
    PortRef from; // an output port
    PortRef to;   // an input port
};

struct ResolvedGraph {
    std::string name;
    std::vector<ResolvedNode> nodes; // in a topological order
    std::vector<ResolvedEdge> edges;
    std::map<std::string, std::string> inputs; // bound input -> absolute path
    uint64_t seed = 0;
    nlohmann::json resolved_recipe; // for run.json

    // With ResolveOptions::defer_unbound: the declared inputs nothing binds
    // (no --input, no default), and whether each is optional, with the
    // nodes whose params refer to it. Empty otherwise.
    struct Unbound {
        std::string name;
        bool optional = false;
        std::vector<std::string> nodes;
    };
    std::vector<Unbound> unbound;
};

struct ResolveOptions {
    std::map<std::string, std::string> inputs; // NAME -> PATH from the command line
    std::optional<uint64_t> seed;
    // Checking only (spotflow validate): an unbound input is no error; its
    // ${inputs.NAME} stays as written, every node is checked (none is
    // dropped for an unbound optional input) and ResolvedGraph::unbound
    // lists it. The graph is then not meant to be executed.
    bool defer_unbound = false;
};

// Loads the recipe's plugin_paths into the registry, then checks everything:
// inputs, plugins, params, ports and their types, cycles. Throws UserErrors
// listing every problem found, each naming its JSON pointer and node.
ResolvedGraph resolve_recipe(const Recipe& recipe, PluginRegistry& registry, const ResolveOptions& options);

// Port type compatibility: equal, or "table"/"tensor" inputs taking any of
// their kind.
bool port_accepts(const spotflow_port_desc& input, const spotflow_port_desc& output);

// The embedded copy of schemas/recipe.schema.json.
const char* recipe_schema_text();

} // namespace spotflow
