#include <gtest/gtest.h>

#include "json_schema.hpp"

using nlohmann::json;
using spotflow::JsonSchema;

namespace {

const json kSchema = json::parse(R"({
  "type": "object", "additionalProperties": false, "required": ["path"],
  "properties": {
    "path": {"type": "string"},
    "max_gap": {"type": "integer", "minimum": 0, "default": 2},
    "mode": {"enum": ["a", "b"], "default": "a"},
    "fit": {"type": "object", "properties": {"iterations": {"type": "integer", "default": 10, "maximum": 100}}}
  }})");

TEST(JsonSchema, FillsDefaultsRecursively) {
    JsonSchema s(kSchema);
    json doc = {{"path", "x"}};
    s.fill_defaults(doc);
    EXPECT_EQ(doc["max_gap"], 2);
    EXPECT_EQ(doc["mode"], "a");
    EXPECT_EQ(doc["fit"]["iterations"], 10);
    EXPECT_TRUE(s.validate(doc).empty());
}

TEST(JsonSchema, KeepsGivenValues) {
    JsonSchema s(kSchema);
    json doc = {{"path", "x"}, {"max_gap", 7}, {"fit", {{"iterations", 3}}}};
    s.fill_defaults(doc);
    EXPECT_EQ(doc["max_gap"], 7);
    EXPECT_EQ(doc["fit"]["iterations"], 3);
}

TEST(JsonSchema, MinimumViolationNamesPointerValueAndBound) {
    JsonSchema s(kSchema);
    const auto errors = s.validate({{"path", "x"}, {"max_gap", -3}});
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].pointer, "max_gap");
    EXPECT_EQ(errors[0].message, "-3 is less than the minimum 0");
}

TEST(JsonSchema, NestedMaximum) {
    JsonSchema s(kSchema);
    const auto errors = s.validate({{"path", "x"}, {"fit", {{"iterations", 1000}}}});
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].pointer, "fit/iterations");
    EXPECT_EQ(errors[0].message, "1000 is greater than the maximum 100");
}

TEST(JsonSchema, TypeEnumRequiredAndUnknownProperty) {
    JsonSchema s(kSchema);
    auto e = s.validate({{"path", 3}});
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].pointer, "path");
    EXPECT_EQ(e[0].message, "3 is not of type string");

    e = s.validate({{"path", "x"}, {"mode", "c"}});
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].message, "\"c\" is not one of [\"a\",\"b\"]");

    e = s.validate(json::object());
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].message, "missing required property 'path'");

    e = s.validate({{"path", "x"}, {"max_gapp", 1}});
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].message, "unknown property 'max_gapp'");
}

TEST(JsonSchema, RejectsANonObjectSchema) { EXPECT_THROW(JsonSchema(json::array()), std::invalid_argument); }

} // namespace
