#include "common/config/scalar.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/absl_view.h"

namespace llmesh::config {
namespace {

using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;

// google.protobuf.Duration's documented range: +-10,000 years.
constexpr int64_t kMaxDurationSeconds = 315'576'000'000;

absl::Status Expected(absl::string_view what, absl::string_view text) {
  return absl::InvalidArgumentError(absl::StrCat("expected ", what, ", got \"", text, "\""));
}

// The enum values a config may name: all but the conventional "unspecified" zero value.
std::vector<const EnumValueDescriptor*> SelectableValues(const EnumDescriptor& e) {
  std::vector<const EnumValueDescriptor*> values;
  for (int i = 0; i < e.value_count(); ++i) {
    const EnumValueDescriptor* v = e.value(i);
    if (v->number() == 0 && absl::EndsWith(v->name(), "_UNSPECIFIED")) continue;
    values.push_back(v);
  }
  return values;
}

std::string EnumChoices(const EnumDescriptor& e) {
  return absl::StrJoin(SelectableValues(e), ", ",
                       [](std::string* out, const EnumValueDescriptor* v) {
                         out->append(absl::AsciiStrToLower(v->name()));
                       });
}

// from_chars rejects a leading '+', which YAML allows.
absl::string_view StripPlus(absl::string_view text) {
  if (absl::StartsWith(text, "+")) text.remove_prefix(1);
  return text;
}

template <typename T>
absl::StatusOr<T> ParseInteger(absl::string_view text, absl::string_view what) {
  const absl::string_view digits = StripPlus(text);
  if constexpr (std::is_unsigned_v<T>) {
    if (absl::StartsWith(digits, "-")) return Expected(what, text);
  }
  T value{};
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || end != digits.data() + digits.size() ||
      (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    return Expected(what, text);
  }
  if (ec == std::errc::result_out_of_range) {
    return absl::InvalidArgumentError(absl::StrCat("value ", text, " is out of range (",
                                                   std::numeric_limits<T>::min(), "..",
                                                   std::numeric_limits<T>::max(), ")"));
  }
  return value;
}

absl::StatusOr<double> ParseNumber(absl::string_view text, bool is_float) {
  const absl::string_view digits = StripPlus(text);
  double value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      !std::isfinite(value)) {
    return Expected("a number", text);
  }
  if (is_float && std::abs(value) > std::numeric_limits<float>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("value ", text, " is out of range for a 32-bit float"));
  }
  return value;
}

absl::StatusOr<boost::json::value> EnumToJson(const EnumDescriptor& e,
                                              absl::string_view text) {
  for (const EnumValueDescriptor* v : SelectableValues(e)) {
    if (absl::EqualsIgnoreCase(v->name(), text)) return boost::json::value(v->name());
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown value \"", text, "\" (expected one of: ", EnumChoices(e), ")"));
}

}  // namespace

bool IsDurationField(const FieldDescriptor& field) {
  return field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
         field.message_type()->full_name() == "google.protobuf.Duration";
}

absl::StatusOr<absl::Duration> ParseConfigDuration(std::string_view text_in) {
  const absl::string_view text = AbslView(text_in);
  absl::Duration d;
  if (!absl::ParseDuration(std::string(text), &d) || d == absl::InfiniteDuration() ||
      d == -absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid duration \"", text, "\" (use e.g. 500ms, 2s, 1m)"));
  }
  if (d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("negative duration \"", text, "\" is not allowed"));
  }
  if (d > absl::Seconds(kMaxDurationSeconds)) {
    return absl::InvalidArgumentError(absl::StrCat("duration \"", text, "\" is too long"));
  }
  return d;
}

std::string DurationToProtoJson(absl::Duration d) {
  const int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  const int64_t nanos = absl::ToInt64Nanoseconds(d);
  // Same precision steps as protobuf's own JSON printer: 0, 3, 6 or 9 fractional digits.
  if (nanos == 0) return absl::StrCat(seconds, "s");
  if (nanos % 1'000'000 == 0) return absl::StrFormat("%d.%03ds", seconds, nanos / 1'000'000);
  if (nanos % 1'000 == 0) return absl::StrFormat("%d.%06ds", seconds, nanos / 1'000);
  return absl::StrFormat("%d.%09ds", seconds, nanos);
}

absl::StatusOr<boost::json::value> ScalarToJson(const FieldDescriptor& field,
                                                std::string_view text_in) {
  const absl::string_view text = AbslView(text_in);
  if (IsDurationField(field)) {
    absl::StatusOr<absl::Duration> d = ParseConfigDuration(text_in);
    if (!d.ok()) return d.status();
    return boost::json::value(DurationToProtoJson(*d));
  }
  const std::string what = ExpectedKind(field);
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      absl::StatusOr<int32_t> v = ParseInteger<int32_t>(text, what);
      if (!v.ok()) return v.status();
      return boost::json::value(*v);
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      absl::StatusOr<uint32_t> v = ParseInteger<uint32_t>(text, what);
      if (!v.ok()) return v.status();
      return boost::json::value(*v);
    }
    // Proto JSON writes 64-bit integers as strings so no double rounding can happen.
    case FieldDescriptor::CPPTYPE_INT64: {
      absl::StatusOr<int64_t> v = ParseInteger<int64_t>(text, what);
      if (!v.ok()) return v.status();
      return boost::json::value(absl::StrCat(*v));
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      absl::StatusOr<uint64_t> v = ParseInteger<uint64_t>(text, what);
      if (!v.ok()) return v.status();
      return boost::json::value(absl::StrCat(*v));
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      absl::StatusOr<double> v =
          ParseNumber(text, field.cpp_type() == FieldDescriptor::CPPTYPE_FLOAT);
      if (!v.ok()) return v.status();
      return boost::json::value(*v);
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      if (absl::EqualsIgnoreCase(text, "true")) return boost::json::value(true);
      if (absl::EqualsIgnoreCase(text, "false")) return boost::json::value(false);
      return Expected(what, text);
    case FieldDescriptor::CPPTYPE_ENUM:
      return EnumToJson(*field.enum_type(), text);
    case FieldDescriptor::CPPTYPE_STRING:
      if (field.type() == FieldDescriptor::TYPE_BYTES) {
        return boost::json::value(absl::Base64Escape(text));
      }
      return boost::json::value(text_in);
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat("expected ", what, ", got \"", text, "\""));
}

std::string ExpectedKind(const FieldDescriptor& field) {
  if (field.is_map()) return "a map";
  if (IsDurationField(field)) return "a duration (e.g. 500ms, 2s, 1m)";
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
      return "an integer";
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return "an unsigned integer";
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
      return "a number";
    case FieldDescriptor::CPPTYPE_BOOL:
      return "true or false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return absl::StrCat("one of: ", EnumChoices(*field.enum_type()));
    case FieldDescriptor::CPPTYPE_STRING:
      return "a string";
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return "a map";
  }
  return "a value";
}

}  // namespace llmesh::config
