#include "proxy/provider/gemini/gemini_schema.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "proxy/provider/common/json_fields.h"

namespace llmesh::provider {
namespace {

namespace json = boost::json;

// Takes a string_view: object keys are views, and binding them to `const json::string&` would
// build a temporary string and return a view into it.
std::string_view View(json::string_view s) { return std::string_view(s.data(), s.size()); }

// Gemini's Type enum for a JSON Schema type name; "" for one it does not have.
std::string_view GeminiType(std::string_view type) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"string", "STRING"}, {"number", "NUMBER"}, {"integer", "INTEGER"}, {"boolean", "BOOLEAN"},
      {"array", "ARRAY"},   {"object", "OBJECT"}, {"null", "NULL"}};
  const std::string lower = absl::AsciiStrToLower(AbslView(type));
  for (const auto& [json_type, gemini_type] : kTypes) {
    if (lower == json_type) return gemini_type;
  }
  return {};
}

// Formats Gemini accepts per type; any other makes it answer 400.
bool FormatAllowed(std::string_view type, std::string_view format) {
  if (type == "STRING") return format == "date-time" || format == "enum";
  if (type == "INTEGER") return format == "int32" || format == "int64";
  if (type == "NUMBER") return format == "float" || format == "double";
  return false;
}

bool IsNullBranch(const json::object& branch) {
  return branch.size() == 1 && StringField(branch, "type") == "NULL";
}

// Adds the members of `from` that `into` lacks; properties and required are united.
void MergeInto(json::object& into, const json::object& from) {
  for (const auto& member : from) {
    const std::string_view key = View(member.key());
    if (key == "properties" && member.value().is_object()) {
      json::object& properties = into["properties"].emplace_object();
      for (const auto& property : member.value().get_object()) {
        if (!properties.contains(property.key())) properties[property.key()] = property.value();
      }
    } else if (key == "required" && member.value().is_array()) {
      json::array& required = into["required"].emplace_array();
      for (const json::value& name : member.value().get_array()) required.push_back(name);
    } else if (!into.contains(member.key())) {
      into[member.key()] = member.value();
    }
  }
}

class Converter {
 public:
  Converter(const json::value& root, GeminiSchemaOptions options) : root_(root), options_(options) {}

  absl::StatusOr<json::object> Convert(const json::value& schema, size_t depth) {
    if (depth > kMaxGeminiSchemaDepth) {
      return absl::FailedPreconditionError(
          absl::StrCat("a JSON schema nested deeper than ", kMaxGeminiSchemaDepth,
                       " levels cannot be sent to Gemini"));
    }
    if (++nodes_ > kMaxGeminiSchemaNodes) {
      return absl::FailedPreconditionError(
          absl::StrCat("a JSON schema of more than ", kMaxGeminiSchemaNodes,
                       " nodes (after inlining $ref) cannot be sent to Gemini"));
    }
    const json::object* in = schema.if_object();
    if (in == nullptr) return json::object();
    if (const std::string_view ref = StringField(*in, "$ref"); !ref.empty()) {
      return ConvertRef(*in, ref, depth);
    }
    return ConvertObject(*in, depth);
  }

 private:
  absl::StatusOr<json::object> ConvertRef(const json::object& in, std::string_view ref, size_t depth) {
    if (!ref.starts_with('#')) {
      return absl::FailedPreconditionError(absl::StrCat(
          "JSON schema $ref '", AbslView(ref), "' does not point inside the schema; Gemini needs it inlined"));
    }
    const json::value* target = &root_;
    if (ref.size() > 1) {
      boost::system::error_code ec;
      const std::string_view pointer = ref.substr(1);
      target = root_.find_pointer(json::string_view(pointer.data(), pointer.size()), ec);
      if (target == nullptr) {
        return absl::FailedPreconditionError(
            absl::StrCat("JSON schema $ref '", AbslView(ref), "' does not resolve"));
      }
    }
    json::object out;
    if (std::find(expanding_.begin(), expanding_.end(), ref) != expanding_.end()) {
      // A recursive definition: one level of it is all Gemini's dialect can carry.
      if (const json::object* definition = target->if_object()) {
        const std::string_view type = GeminiType(StringField(*definition, "type"));
        if (!type.empty()) out["type"] = type;
        const std::string_view description = StringField(*definition, "description");
        if (!description.empty()) out["description"] = description;
      }
    } else {
      expanding_.push_back(ref);
      absl::StatusOr<json::object> converted = Convert(*target, depth + 1);
      expanding_.pop_back();
      if (!converted.ok()) return converted.status();
      out = *std::move(converted);
    }
    // Keywords beside the $ref (a description, nullable) refine the referenced schema.
    json::object siblings;
    for (const auto& member : in) {
      if (View(member.key()) != "$ref") siblings[member.key()] = member.value();
    }
    if (!siblings.empty()) {
      absl::StatusOr<json::object> converted = ConvertObject(siblings, depth);
      if (!converted.ok()) return converted.status();
      for (const auto& member : *converted) out[member.key()] = member.value();
    }
    return out;
  }

  absl::StatusOr<json::object> ConvertObject(const json::object& in, size_t depth) {
    json::object out;
    bool nullable = false;
    std::vector<std::string_view> types;  // Gemini type names, null excluded
    std::string_view format;
    const json::value* enum_values = nullptr;
    const json::value* const_value = nullptr;
    const json::array* required = nullptr;
    std::vector<json::object> branches;  // anyOf / oneOf, converted
    bool has_branches = false;
    std::vector<json::object> all_of;
    std::vector<const json::object*> all_of_raw;

    for (const auto& member : in) {
      const std::string_view key = View(member.key());
      const json::value& value = member.value();
      if (key == "type") {
        ReadTypes(value, types, nullable);
        if (types.size() == 1) out["type"] = types.front();
        if (types.empty() && nullable) out["type"] = "NULL";
      } else if (key == "title" || key == "description" || key == "pattern") {
        if (value.is_string()) out[key] = value;
      } else if (key == "nullable") {
        if (value.is_bool() && value.get_bool()) nullable = true;
      } else if (key == "default" || key == "example") {
        out[key] = value;
      } else if (key == "minItems" || key == "maxItems" || key == "minLength" || key == "maxLength" ||
                 key == "minProperties" || key == "maxProperties") {
        if (UintField(in, key)) out[key] = value;
      } else if (key == "minimum" || key == "maximum") {
        if (value.is_number()) out[key] = value;
      } else if (key == "format") {
        if (value.is_string()) format = View(value.get_string());
      } else if (key == "enum") {
        enum_values = &value;
      } else if (key == "const") {
        const_value = &value;
      } else if (key == "required") {
        required = value.if_array();
      } else if (key == "properties") {
        if (const json::object* properties = value.if_object()) {
          json::object converted;
          json::array ordering;
          for (const auto& property : *properties) {
            absl::StatusOr<json::object> schema = Convert(property.value(), depth + 1);
            if (!schema.ok()) return schema.status();
            converted[property.key()] = *std::move(schema);
            ordering.push_back(json::string(property.key()));
          }
          out["properties"] = std::move(converted);
          if (options_.property_ordering && !ordering.empty()) out["propertyOrdering"] = std::move(ordering);
        }
      } else if (key == "items") {
        if (value.is_object()) {
          absl::StatusOr<json::object> items = Convert(value, depth + 1);
          if (!items.ok()) return items.status();
          out["items"] = *std::move(items);
        }
      } else if (key == "anyOf" || key == "oneOf") {
        if (const json::array* options = value.if_array()) {
          has_branches = true;
          for (const json::value& option : *options) {
            absl::StatusOr<json::object> branch = Convert(option, depth + 1);
            if (!branch.ok()) return branch.status();
            branches.push_back(*std::move(branch));
          }
        }
      } else if (key == "allOf") {
        if (const json::array* parts = value.if_array()) {
          for (const json::value& part : *parts) {
            absl::StatusOr<json::object> branch = Convert(part, depth + 1);
            if (!branch.ok()) return branch.status();
            all_of.push_back(*std::move(branch));
            all_of_raw.push_back(part.if_object());
          }
        }
      }
      // Every other keyword is outside Gemini's dialect and dropped.
    }

    if (types.size() > 1 && !has_branches) {
      json::array options;
      for (std::string_view type : types) options.push_back(json::object{{"type", type}});
      out["anyOf"] = std::move(options);
    }
    if (has_branches) {
      std::vector<json::object> kept;
      for (json::object& branch : branches) {
        if (IsNullBranch(branch)) {
          nullable = true;
        } else {
          kept.push_back(std::move(branch));
        }
      }
      if (kept.size() == 1) {
        MergeInto(out, kept.front());
      } else if (!kept.empty()) {
        json::array options;
        for (json::object& branch : kept) options.push_back(std::move(branch));
        out["anyOf"] = std::move(options);
      }
    }
    for (size_t i = 0; i < all_of.size(); ++i) {
      MergeInto(out, all_of[i]);
      // A part that only lists required names lost them in its own conversion (it had no
      // properties); they belong to the merged object.
      if (all_of_raw[i] != nullptr) {
        if (const json::array* names = ArrayField(*all_of_raw[i], "required")) {
          json::array& merged = out["required"].emplace_array();
          for (const json::value& name : *names) merged.push_back(name);
        }
      }
    }
    if (required != nullptr) {
      json::array& merged = out["required"].emplace_array();
      for (const json::value& name : *required) merged.push_back(name);
    }
    FinishRequired(out);

    if (enum_values != nullptr) {
      ApplyEnum(out, *enum_values, nullable);
    } else if (const_value != nullptr && const_value->is_string()) {
      out["enum"] = json::array{const_value->get_string()};
      if (!out.contains("type")) out["type"] = "STRING";
    }
    if (!out.contains("type") && !out.contains("anyOf")) {
      if (out.contains("properties")) {
        out["type"] = "OBJECT";
      } else if (out.contains("items")) {
        out["type"] = "ARRAY";
      }
    }
    if (!format.empty() && FormatAllowed(StringField(out, "type"), format)) out["format"] = format;
    if (nullable && StringField(out, "type") != "NULL") out["nullable"] = true;
    return out;
  }

  static void ReadTypes(const json::value& value, std::vector<std::string_view>& types, bool& nullable) {
    const auto add = [&](const json::value& item) {
      if (!item.is_string()) return;
      const std::string_view type = GeminiType(View(item.get_string()));
      if (type == "NULL") {
        nullable = true;
      } else if (!type.empty() && std::find(types.begin(), types.end(), type) == types.end()) {
        types.push_back(type);
      }
    };
    if (const json::array* list = value.if_array()) {
      for (const json::value& item : *list) add(item);
    } else {
      add(value);
    }
  }

  // Gemini's enum holds strings only: a null member means nullable, any other non-string
  // member makes the whole enum inexpressible, and it is dropped.
  static void ApplyEnum(json::object& out, const json::value& values, bool& nullable) {
    const json::array* list = values.if_array();
    if (list == nullptr) return;
    json::array strings;
    bool saw_null = false;
    for (const json::value& value : *list) {
      if (value.is_null()) {
        saw_null = true;
      } else if (value.is_string()) {
        strings.push_back(value);
      } else {
        return;
      }
    }
    if (saw_null) nullable = true;
    if (strings.empty()) return;
    out["enum"] = std::move(strings);
    if (!out.contains("type")) out["type"] = "STRING";
  }

  // Keeps required names that are listed properties, once each, in order; Gemini rejects the
  // others.
  static void FinishRequired(json::object& out) {
    json::value* required = out.if_contains("required");
    if (required == nullptr) return;
    const json::object* properties = ObjectField(out, "properties");
    json::array kept;
    if (properties != nullptr && required->is_array()) {
      for (const json::value& name : required->get_array()) {
        if (!name.is_string() || !properties->contains(name.get_string())) continue;
        if (std::find(kept.begin(), kept.end(), name) != kept.end()) continue;
        kept.push_back(name);
      }
    }
    if (kept.empty()) {
      out.erase("required");
    } else {
      *required = std::move(kept);
    }
  }

  const json::value& root_;
  const GeminiSchemaOptions options_;
  size_t nodes_ = 0;
  std::vector<std::string_view> expanding_;
};

}  // namespace

absl::StatusOr<json::object> ToGeminiSchema(const json::value& schema, GeminiSchemaOptions options) {
  Converter converter(schema, options);
  return converter.Convert(schema, 0);
}

}  // namespace llmesh::provider
