// Converts the JSON Schemas clients send (tool `parameters`, response_format `json_schema`)
// into the OpenAPI 3.0 subset that Gemini's `parameters` and `generationConfig.responseSchema`
// accept (wire-formats §3.2).
//
// Used by the Gemini request encoder. The subset is what every Gemini model and surface
// accepts; `parametersJsonSchema` / `responseJsonSchema` would carry the schema unchanged but
// are newer and not accepted everywhere. The conversion:
//  - keeps title, description, nullable, enum (strings only), format (only the ones Gemini
//    knows for the type: date-time/enum, int32/int64, float/double), properties, required
//    (restricted to listed properties), items, anyOf, minItems, maxItems, minLength,
//    maxLength, minProperties, maxProperties, minimum, maximum, pattern, default, example;
//  - upper-cases `type` ("object" → "OBJECT"); a type list ["string","null"] becomes
//    STRING + nullable, several non-null types become anyOf; a missing type is inferred as
//    OBJECT from `properties` and ARRAY from `items`;
//  - turns `const` "x" into enum ["x"], oneOf into anyOf, null branches of anyOf/oneOf into
//    nullable (a single remaining branch is merged into its parent), and merges allOf;
//  - inlines local `$ref`s ("#/$defs/X", "#/definitions/X", any "#/..." pointer); a $ref to a
//    definition already being expanded (a recursive schema) becomes that definition's type and
//    description alone;
//  - drops everything else ($schema, $id, $defs, definitions, additionalProperties,
//    patternProperties, exclusiveMinimum, multipleOf, not, if/then/else, examples, ...),
//    because Gemini rejects unknown keywords with 400 INVALID_ARGUMENT.
// FAILED_PRECONDITION for what cannot be expressed: a $ref that does not resolve inside the
// schema, nesting deeper than kMaxGeminiSchemaDepth, or inlining that grows the schema past
// kMaxGeminiSchemaNodes.
//
// Pure function; thread-safe.
#pragma once

#include <cstddef>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "absl/status/statusor.h"

namespace llmesh::provider {

inline constexpr size_t kMaxGeminiSchemaDepth = 64;
inline constexpr size_t kMaxGeminiSchemaNodes = 10000;

struct GeminiSchemaOptions {
  // Add `propertyOrdering` (the client's property order) to every object: Gemini otherwise
  // orders a structured answer's keys alphabetically. Meant for responseSchema.
  bool property_ordering = false;
};

// The Gemini Schema for `schema` (a JSON Schema object; `true` and {} give {}).
absl::StatusOr<boost::json::object> ToGeminiSchema(const boost::json::value& schema,
                                                   GeminiSchemaOptions options = {});

}  // namespace llmesh::provider
