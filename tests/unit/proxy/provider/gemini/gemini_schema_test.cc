#include "proxy/provider/gemini/gemini_schema.h"

#include <string>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "gtest/gtest.h"
#include "proxy/provider/common/json_fields.h"

namespace llmesh::provider {
namespace {

// The Gemini schema for `schema` as compact JSON, or the status message.
std::string Convert(std::string_view schema, GeminiSchemaOptions options = {}) {
  boost::json::value parsed;
  EXPECT_TRUE(ParseJson(schema, parsed)) << schema;
  const absl::StatusOr<boost::json::object> converted = ToGeminiSchema(parsed, options);
  if (!converted.ok()) return std::string(converted.status().message());
  return boost::json::serialize(*converted);
}

TEST(GeminiSchemaTest, UpperCasesTypesAndDropsKeywordsGeminiRejects) {
  EXPECT_EQ(Convert(R"({"$schema":"x","$id":"y","type":"object","additionalProperties":false,
                       "properties":{"a":{"type":"string","examples":["e"]}},"required":["a"]})"),
            R"({"type":"OBJECT","properties":{"a":{"type":"STRING"}},"required":["a"]})");
}

TEST(GeminiSchemaTest, TurnsNullableTypeListsAndNullBranchesIntoNullable) {
  EXPECT_EQ(Convert(R"({"type":["integer","null"]})"), R"({"type":"INTEGER","nullable":true})");
  EXPECT_EQ(Convert(R"({"anyOf":[{"type":"string"},{"type":"null"}]})"), R"({"type":"STRING","nullable":true})");
  EXPECT_EQ(Convert(R"({"type":["string","number"]})"), R"({"anyOf":[{"type":"STRING"},{"type":"NUMBER"}]})");
  EXPECT_EQ(Convert(R"({"oneOf":[{"type":"string"},{"type":"integer"}]})"),
            R"({"anyOf":[{"type":"STRING"},{"type":"INTEGER"}]})");
}

TEST(GeminiSchemaTest, InlinesLocalReferences) {
  EXPECT_EQ(Convert(R"({"type":"object","properties":{"p":{"$ref":"#/$defs/point","description":"where"}},
                       "$defs":{"point":{"type":"object","properties":{"x":{"type":"number"}}}}})"),
            R"({"type":"OBJECT","properties":{"p":{"type":"OBJECT","properties":{"x":{"type":"NUMBER"}},"description":"where"}}})");
}

TEST(GeminiSchemaTest, CutsRecursiveReferencesToOneLevel) {
  EXPECT_EQ(Convert(R"({"$ref":"#/definitions/node","definitions":{"node":{"type":"object","description":"n",
                       "properties":{"next":{"$ref":"#/definitions/node"}}}}})"),
            R"({"type":"OBJECT","description":"n","properties":{"next":{"type":"OBJECT","description":"n"}}})");
}

TEST(GeminiSchemaTest, RefusesReferencesOutsideTheSchema) {
  EXPECT_EQ(Convert(R"({"$ref":"https://example.com/s.json"})"),
            "JSON schema $ref 'https://example.com/s.json' does not point inside the schema; Gemini needs it inlined");
  EXPECT_EQ(Convert(R"({"$ref":"#/$defs/missing"})"), "JSON schema $ref '#/$defs/missing' does not resolve");
}

TEST(GeminiSchemaTest, KeepsOnlyFormatsAndEnumsGeminiKnows) {
  EXPECT_EQ(Convert(R"({"type":"string","format":"email"})"), R"({"type":"STRING"})");
  EXPECT_EQ(Convert(R"({"type":"string","format":"date-time"})"), R"({"type":"STRING","format":"date-time"})");
  EXPECT_EQ(Convert(R"({"enum":["a","b",null]})"), R"({"enum":["a","b"],"type":"STRING","nullable":true})");
  EXPECT_EQ(Convert(R"({"type":"integer","enum":[1,2]})"), R"({"type":"INTEGER"})");
  EXPECT_EQ(Convert(R"({"const":"x"})"), R"({"enum":["x"],"type":"STRING"})");
}

TEST(GeminiSchemaTest, MergesAllOfAndKeepsOnlyListedRequiredNames) {
  EXPECT_EQ(Convert(R"({"allOf":[{"type":"object","properties":{"a":{"type":"string"}}},{"required":["a","b"]}]})"),
            R"({"type":"OBJECT","properties":{"a":{"type":"STRING"}},"required":["a"]})");
}

TEST(GeminiSchemaTest, AddsPropertyOrderingWhenAsked) {
  EXPECT_EQ(Convert(R"({"type":"object","properties":{"z":{"type":"string"},"a":{"type":"string"}}})",
                    {.property_ordering = true}),
            R"({"type":"OBJECT","properties":{"z":{"type":"STRING"},"a":{"type":"STRING"}},"propertyOrdering":["z","a"]})");
}

TEST(GeminiSchemaTest, RefusesSchemasNestedTooDeeply) {
  std::string schema;
  for (size_t i = 0; i <= kMaxGeminiSchemaDepth; ++i) schema += R"({"type":"array","items":)";
  schema += "{}";
  for (size_t i = 0; i <= kMaxGeminiSchemaDepth; ++i) schema += "}";
  EXPECT_EQ(Convert(schema), "a JSON schema nested deeper than 64 levels cannot be sent to Gemini");
}

}  // namespace
}  // namespace llmesh::provider
