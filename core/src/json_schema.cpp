#include "json_schema.hpp"

#include <algorithm>
#include <regex>

#include <fmt/format.h>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace spotflow {
namespace {

// valijson's context is {"<root>", "[nodes]", "[2]", ...}.
std::vector<std::string> tokens_of(const std::vector<std::string>& context) {
    std::vector<std::string> out;
    for (const auto& c : context) {
        if (c == "<root>") continue;
        out.push_back(c.size() >= 2 && c.front() == '[' && c.back() == ']' ? c.substr(1, c.size() - 2) : c);
    }
    return out;
}

bool is_prefix(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    return a.size() < b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// The value at the tokens, or null if it is not there.
const nlohmann::json* value_at(const nlohmann::json& doc, const std::vector<std::string>& tokens) {
    const nlohmann::json* v = &doc;
    for (const auto& t : tokens) {
        if (v->is_object() && v->contains(t)) v = &(*v)[t];
        else if (v->is_array() && !t.empty() && std::all_of(t.begin(), t.end(), ::isdigit) &&
                 std::stoul(t) < v->size())
            v = &(*v)[std::stoul(t)];
        else return nullptr;
    }
    return v;
}

// The subschema describing the value at the tokens, following only
// "properties", "items" and "additionalProperties" (enough for messages).
const nlohmann::json* schema_at(const nlohmann::json& schema, const std::vector<std::string>& tokens) {
    const nlohmann::json* s = &schema;
    for (const auto& t : tokens) {
        if (!s->is_object()) return nullptr;
        if (s->contains("properties") && (*s)["properties"].contains(t)) s = &(*s)["properties"][t];
        else if (s->contains("items") && (*s)["items"].is_object()) s = &(*s)["items"];
        else if (s->contains("additionalProperties") && (*s)["additionalProperties"].is_object())
            s = &(*s)["additionalProperties"];
        else return nullptr;
    }
    return s;
}

std::string short_dump(const nlohmann::json& v) {
    std::string s = v.dump();
    return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

std::string type_list(const nlohmann::json& t) {
    if (t.is_string()) return t.get<std::string>();
    std::string out;
    for (const auto& x : t) out += (out.empty() ? "" : " or ") + x.get<std::string>();
    return out;
}

std::string plain_message(const std::string& description, const nlohmann::json* value, const nlohmann::json* schema) {
    const std::string v = value ? short_dump(*value) : "value";
    auto has = [&](const char* key) { return schema && schema->is_object() && schema->contains(key); };
    std::smatch m;
    if (description.rfind("Expected number greater than or equal to", 0) == 0 && has("minimum"))
        return fmt::format("{} is less than the minimum {}", v, (*schema)["minimum"].dump());
    if (description.rfind("Expected number greater than", 0) == 0 && has("exclusiveMinimum"))
        return fmt::format("{} must be greater than {}", v, (*schema)["exclusiveMinimum"].dump());
    if (description.rfind("Expected number less than or equal to", 0) == 0 && has("maximum"))
        return fmt::format("{} is greater than the maximum {}", v, (*schema)["maximum"].dump());
    if (description.rfind("Expected number less than", 0) == 0 && has("exclusiveMaximum"))
        return fmt::format("{} must be less than {}", v, (*schema)["exclusiveMaximum"].dump());
    if (description.find("'type' constraint") != std::string::npos && has("type"))
        return fmt::format("{} is not of type {}", v, type_list((*schema)["type"]));
    if (description.find("enum values") != std::string::npos && has("enum"))
        return fmt::format("{} is not one of {}", v, (*schema)["enum"].dump());
    if (std::regex_search(description, m, std::regex("Missing required property '([^']*)'")))
        return fmt::format("missing required property '{}'", m[1].str());
    if (std::regex_search(description, m, std::regex("could not be validated using 'properties' or "
                                                      "'additionalProperties' constraints: '([^']*)'")))
        return fmt::format("unknown property '{}'", m[1].str());
    if (description.find("minimum length") != std::string::npos && has("minLength"))
        return fmt::format("{} is shorter than {} characters", v, (*schema)["minLength"].dump());
    if (description.find("regular expression") != std::string::npos && has("pattern"))
        return fmt::format("{} does not match the pattern {}", v, (*schema)["pattern"].dump());
    if (description.find("minimum number of items") != std::string::npos ||
        description.find("fewer than") != std::string::npos)
        if (has("minItems")) return fmt::format("needs at least {} items", (*schema)["minItems"].dump());
    std::string d = description;
    if (!d.empty() && d.back() == '.') d.pop_back();
    if (!d.empty()) d[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(d[0])));
    return value ? fmt::format("{}: {}", v, d) : d;
}

} // namespace

std::string join_pointer(const std::string& base, const std::string& token) {
    return base.empty() ? token : base + "/" + token;
}

JsonSchema::JsonSchema(nlohmann::json schema) : json_(std::move(schema)) {
    if (!json_.is_object()) throw std::invalid_argument("a JSON Schema must be an object");
    compiled_ = std::make_unique<valijson::Schema>();
    try {
        valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
        valijson::adapters::NlohmannJsonAdapter adapter(json_);
        parser.populateSchema(adapter, *compiled_);
    } catch (const std::exception& e) {
        throw std::invalid_argument(std::string("invalid JSON Schema: ") + e.what());
    }
}

JsonSchema::~JsonSchema() = default;

std::vector<SchemaError> JsonSchema::validate(const nlohmann::json& doc) const {
    valijson::Validator validator(valijson::Validator::kStrongTypes);
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter adapter(doc);
    if (validator.validate(*compiled_, adapter, &results)) return {};

    std::vector<std::pair<std::vector<std::string>, std::string>> all;
    valijson::ValidationResults::Error e;
    while (results.popError(e)) all.emplace_back(tokens_of(e.context), e.description);

    std::vector<SchemaError> out;
    for (const auto& entry : all) {
        // Not a structured binding: C++17 lambdas cannot capture those (clang refuses).
        const auto& tokens = entry.first;
        const auto& description = entry.second;
        const bool enclosing = std::any_of(all.begin(), all.end(), [&](const auto& other) {
            return is_prefix(tokens, other.first);
        });
        // Wrappers such as "Failed to validate against schema associated with
        // property name 'x'" repeat a deeper error at the same place.
        if (enclosing || description.rfind("Failed to validate", 0) == 0) continue;
        std::string pointer;
        for (const auto& t : tokens) pointer = join_pointer(pointer, t);
        SchemaError err{pointer, plain_message(description, value_at(doc, tokens), schema_at(json_, tokens))};
        const bool seen = std::any_of(out.begin(), out.end(), [&](const SchemaError& x) {
            return x.pointer == err.pointer && x.message == err.message;
        });
        if (!seen) out.push_back(std::move(err));
    }
    if (out.empty() && !all.empty()) { // only wrappers: report the deepest
        const auto& deepest = *std::max_element(all.begin(), all.end(), [](const auto& a, const auto& b) {
            return a.first.size() < b.first.size();
        });
        std::string pointer;
        for (const auto& t : deepest.first) pointer = join_pointer(pointer, t);
        out.push_back({pointer, plain_message(deepest.second, value_at(doc, deepest.first), nullptr)});
    }
    return out;
}

namespace {
void fill(const nlohmann::json& schema, nlohmann::json& doc) {
    if (!schema.is_object() || !doc.is_object() || !schema.contains("properties")) return;
    for (const auto& [name, sub] : schema["properties"].items()) {
        if (!doc.contains(name)) {
            if (sub.is_object() && sub.contains("default")) doc[name] = sub["default"];
            else if (sub.is_object() && sub.value("type", "") == "object" && sub.contains("properties")) {
                nlohmann::json child = nlohmann::json::object();
                fill(sub, child);
                if (!child.empty()) doc[name] = std::move(child);
            }
        } else {
            fill(sub, doc[name]);
        }
    }
}
} // namespace

void JsonSchema::fill_defaults(nlohmann::json& doc) const { fill(json_, doc); }

} // namespace spotflow
