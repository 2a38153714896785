// Reading a recipe: JSON syntax, the recipe schema, --set overrides.
#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "errors.hpp"
#include "json_schema.hpp"
#include "recipe.hpp"

namespace spotflow {
namespace fs = std::filesystem;

namespace {

const JsonSchema& recipe_schema() {
    static const JsonSchema schema(nlohmann::json::parse(recipe_schema_text()));
    return schema;
}

std::string name_for(const fs::path& file) { return file.empty() ? "recipe" : file.string(); }

} // namespace

Recipe parse_recipe(const std::string& text, const fs::path& file) {
    Recipe r;
    r.file = file;
    try {
        r.doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        // nlohmann says "[json.exception.parse_error.101] parse error at line 3,
        // column 5: syntax error while parsing ..."; keep line, column, reason.
        std::smatch m;
        const std::string what = e.what();
        if (std::regex_search(what, m, std::regex("at line ([0-9]+), column ([0-9]+): (.*)$")))
            throw UserError(fmt::format("{}:{}:{}: malformed JSON: {}", name_for(file), m[1].str(), m[2].str(), m[3].str()));
        throw UserError(fmt::format("{}: malformed JSON: {}", name_for(file), what));
    }
    const auto errors = recipe_schema().validate(r.doc);
    if (!errors.empty()) {
        std::vector<std::string> lines;
        for (const auto& e : errors)
            lines.push_back(fmt::format("{}: {}: {}", name_for(file), e.pointer.empty() ? "(root)" : e.pointer, e.message));
        throw UserErrors(lines);
    }
    return r;
}

Recipe load_recipe_file(const fs::path& file) {
    std::error_code ec;
    if (!fs::exists(file, ec)) throw UserError(fmt::format("cannot read recipe '{}': no such file", file.string()));
    if (fs::is_directory(file, ec)) throw UserError(fmt::format("cannot read recipe '{}': it is a folder", file.string()));
    std::ifstream in(file);
    if (!in) throw UserError(fmt::format("cannot read recipe '{}': permission denied or unreadable", file.string()));
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_recipe(ss.str(), file);
}

void apply_override(Recipe& recipe, const std::string& assignment) {
    const auto eq = assignment.find('=');
    const auto dot = assignment.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot > eq || dot == 0 || dot + 1 == eq)
        throw UserError(fmt::format("--set '{}': expected NODE.PARAM=VALUE", assignment));
    const std::string node = assignment.substr(0, dot);
    const std::string param = assignment.substr(dot + 1, eq - dot - 1);
    const std::string text = assignment.substr(eq + 1);
    nlohmann::json value;
    try {
        value = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error&) {
        value = text; // a bare word is a string: --set read.path=movie.tif
    }
    for (auto& n : recipe.doc["nodes"]) {
        if (n.value("id", "") != node) continue;
        nlohmann::json* target = &n["params"];
        if (!target->is_object()) *target = nlohmann::json::object();
        std::stringstream ss(param);
        std::string key, next;
        std::getline(ss, key, '.');
        while (std::getline(ss, next, '.')) {
            target = &(*target)[key];
            if (!target->is_object()) *target = nlohmann::json::object();
            key = next;
        }
        (*target)[key] = value;
        return;
    }
    throw UserError(fmt::format("--set '{}': the recipe has no node '{}'", assignment, node));
}

} // namespace spotflow
