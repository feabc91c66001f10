// Conversion of one YAML scalar (already env-expanded text) into the proto JSON form of a
// singular field, with the user-facing error message when the text does not fit the type.
//
// Part of config loading on the main thread, never on the request path. Pure functions.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/value.hpp>
#include <google/protobuf/descriptor.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace llmesh::config {

// True for fields of type google.protobuf.Duration, written as scalars such as "2s".
bool IsDurationField(const google::protobuf::FieldDescriptor& field);

// Parses a config duration: "500ms", "2s", "1m", "1h", "1.5s", Go-style compounds such as
// "1m30s", or "0". Returns INVALID_ARGUMENT with the user-facing message, e.g.
// `invalid duration "2 seconds" (use e.g. 500ms, 2s, 1m)`, for bad text, negative or infinite
// values and values beyond google.protobuf.Duration's range.
absl::StatusOr<absl::Duration> ParseConfigDuration(std::string_view text);

// The proto JSON form of a non-negative duration: "2s", "0.500s", "0.000001500s".
std::string DurationToProtoJson(absl::Duration d);

// Converts `text` to the JSON value proto's JSON parser expects for `field`, which must be a
// scalar, enum or Duration field (its repeated-ness is ignored). Enum values are matched
// case-insensitively against the value names, never the *_UNSPECIFIED zero value; 64-bit
// integers become JSON strings. Returns INVALID_ARGUMENT whose message is the user-facing
// problem without the path, e.g. `expected an unsigned integer, got "abc"`.
absl::StatusOr<boost::json::value> ScalarToJson(const google::protobuf::FieldDescriptor& field,
                                                std::string_view text);

// The phrase naming what a field accepts, for "expected ..." messages: "an unsigned integer",
// "a number", "a duration (e.g. 500ms, 2s, 1m)", "one of: openai, anthropic", "a map", ...
std::string ExpectedKind(const google::protobuf::FieldDescriptor& field);

}  // namespace llmesh::config
