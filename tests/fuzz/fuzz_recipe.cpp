// Recipe text -> parse (JSON, limits, schema) -> resolve against a registry
// with no plugins (inputs, ids, edges, output names). Any outcome but a
// UserError or success is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "errors.hpp"
#include "recipe.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static spotflow::PluginRegistry* registry = new spotflow::PluginRegistry();
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        spotflow::Recipe r = spotflow::parse_recipe(text, "fuzz.json");
        spotflow::ResolveOptions opt;
        opt.defer_unbound = true;
        (void)spotflow::resolve_recipe(r, *registry, opt);
        opt.defer_unbound = false;
        opt.inputs = {{"movie", "/nonexistent.tif"}};
        (void)spotflow::resolve_recipe(r, *registry, opt);
    } catch (const spotflow::UserError&) {
    }
    return 0;
}
