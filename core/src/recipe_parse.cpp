// Reading a recipe: JSON syntax, the recipe schema, --set overrides.
#include <sys/stat.h>

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

// Line and column (from 1) of byte `pos` of `text`.
std::pair<size_t, size_t> line_col(const std::string& text, size_t pos) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos && i < text.size(); ++i) {
        if (text[i] == '\n') { ++line; col = 1; }
        else ++col;
    }
    return {line, col};
}

// Nesting deeper than kMaxRecipeDepth is refused before parsing: the JSON
// library and the schema validator recurse per level, and 20,000 levels
// overflowed the stack. Returns the byte offset of the first bracket too
// deep, or npos.
size_t too_deep_at(const std::string& text, size_t max_depth) {
    size_t depth = 0;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') {
            if (++depth > max_depth) return i;
        } else if ((c == ']' || c == '}') && depth > 0) --depth;
    }
    return std::string::npos;
}

} // namespace

nlohmann::json parse_json_checked(const std::string& text, const std::string& what) {
    if (const size_t at = too_deep_at(text, kMaxRecipeDepth); at != std::string::npos) {
        const auto [line, col] = line_col(text, at);
        throw UserError(fmt::format("{}:{}:{}: nested deeper than {} levels; recipes are not that deep", what, line, col,
                                    kMaxRecipeDepth));
    }
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        // nlohmann says "[json.exception.parse_error.101] parse error at line 3,
        // column 5: syntax error while parsing ..."; keep line, column, reason.
        std::smatch m;
        const std::string w = e.what();
        if (std::regex_search(w, m, std::regex("at line ([0-9]+), column ([0-9]+): (.*)$")))
            throw UserError(fmt::format("{}:{}:{}: malformed JSON: {}", what, m[1].str(), m[2].str(), m[3].str()));
        throw UserError(fmt::format("{}: malformed JSON: {}", what, w));
    } catch (const nlohmann::json::exception& e) {
        // "[json.exception.out_of_range.406] number overflow parsing '1e999'":
        // point at the number.
        std::smatch m;
        const std::string w = e.what();
        if (std::regex_search(w, m, std::regex("number overflow parsing '([^']*)'"))) {
            const size_t at = text.find(m[1].str());
            const auto [line, col] = line_col(text, at == std::string::npos ? 0 : at);
            throw UserError(fmt::format("{}:{}:{}: number {} is out of range (larger than a 64-bit float)", what, line,
                                        col, m[1].str()));
        }
        throw UserError(fmt::format("{}: malformed JSON: {}", what, std::regex_replace(w, std::regex("^\\[[^\\]]*\\] "), "")));
    }
}


Recipe parse_recipe(const std::string& text, const fs::path& file) {
    Recipe r;
    r.file = file;
    if (text.size() > kMaxRecipeBytes)
        throw UserError(fmt::format("{}: {} bytes; a recipe is at most {} MiB", name_for(file), text.size(), kMaxRecipeBytes >> 20));
    r.doc = parse_json_checked(text, name_for(file));
    const auto errors = recipe_schema().validate(r.doc);
    if (!errors.empty()) {
        std::vector<std::string> lines;
        for (const auto& e : errors)
            lines.push_back(fmt::format("{}: {}: {}", name_for(file), e.pointer.empty() ? "(root)" : e.pointer, e.message));
        throw UserErrors(lines);
    }
    return r;
}

std::string not_regular_file(const fs::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return "";
    if (S_ISREG(st.st_mode)) return "";
    if (S_ISDIR(st.st_mode)) return "it is a folder, not a file";
    if (S_ISFIFO(st.st_mode)) return "it is a FIFO (named pipe), not a regular file";
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "it is a device, not a regular file";
    if (S_ISSOCK(st.st_mode)) return "it is a socket, not a regular file";
    return "not a regular file";
}

Recipe load_recipe_file(const fs::path& file) {
    std::error_code ec;
    if (!fs::exists(file, ec)) throw UserError(fmt::format("cannot read recipe '{}': no such file", file.string()));
    if (fs::is_directory(file, ec)) throw UserError(fmt::format("cannot read recipe '{}': it is a folder", file.string()));
    // Not a regular file (a device such as /dev/zero, a FIFO, a socket):
    // reading it may never end.
    if (const std::string why = not_regular_file(file); !why.empty())
        throw UserError(fmt::format("cannot read recipe '{}': {}", file.string(), why));
    std::ifstream in(file, std::ios::binary);
    if (!in) throw UserError(fmt::format("cannot read recipe '{}': permission denied or unreadable", file.string()));
    // Read at most one byte more than allowed: the size in stat may lie
    // (a file growing, /proc).
    std::string text(kMaxRecipeBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxRecipeBytes)
        throw UserError(fmt::format("cannot read recipe '{}': larger than {} MiB; a recipe is a small JSON file",
                                    file.string(), kMaxRecipeBytes >> 20));
    return parse_recipe(text, file);
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
    if (too_deep_at(text, kMaxRecipeDepth) != std::string::npos)
        throw UserError(fmt::format("--set '{}': the value is nested deeper than {} levels", node + "." + param, kMaxRecipeDepth));
    try {
        value = nlohmann::json::parse(text);
    } catch (const nlohmann::json::out_of_range&) {
        throw UserError(fmt::format("--set {}.{}: the number '{}' is out of range", node, param, text));
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
