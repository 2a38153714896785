// JSON Schema validation (valijson on nlohmann_json) with errors that name
// the JSON pointer at fault and say what was wrong in plain words.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace valijson { class Schema; }

namespace spotflow {

struct SchemaError {
    std::string pointer; // "nodes/2/params/max_gap" (no leading slash; "" for the root)
    std::string message; // "-3 is less than the minimum 0"
};

// A compiled draft-7 schema, kept with its JSON for the error messages.
class JsonSchema {
public:
    // Throws std::invalid_argument if `schema` is not a usable JSON Schema.
    explicit JsonSchema(nlohmann::json schema);
    ~JsonSchema();
    JsonSchema(const JsonSchema&) = delete;
    JsonSchema& operator=(const JsonSchema&) = delete;

    const nlohmann::json& json() const { return json_; }

    // The deepest errors only: valijson also reports every enclosing object,
    // which would bury the cause. Empty when `doc` is valid.
    std::vector<SchemaError> validate(const nlohmann::json& doc) const;

    // Adds the "default" of every property `doc` lacks, recursively through
    // nested objects described by "properties".
    void fill_defaults(nlohmann::json& doc) const;

private:
    nlohmann::json json_;
    std::unique_ptr<valijson::Schema> compiled_;
};

// "nodes/2/params" + "max_gap" -> "nodes/2/params/max_gap"
std::string join_pointer(const std::string& base, const std::string& token);

} // namespace spotflow
