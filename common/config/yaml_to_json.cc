#include "common/config/yaml_to_json.h"

#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/config/scalar.h"

namespace llmesh::config {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::OneofDescriptor;

// How a YAML node is named in "expected X, got Y" messages.
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      return absl::StrCat("\"", node.Scalar(), "\"");
    default:
      return "an empty value";
  }
}

std::string FieldNames(const Descriptor& descriptor) {
  std::vector<std::string> names;
  for (int i = 0; i < descriptor.field_count(); ++i) names.push_back(descriptor.field(i)->name());
  return absl::StrJoin(names, ", ");
}

class Converter {
 public:
  Converter(const EnvLookup& env, std::vector<ConfigError>* errors) : env_(env), errors_(errors) {}

  boost::json::object Message(const YAML::Node& node, const Descriptor& descriptor,
                              const std::string& path) {
    boost::json::object out;
    if (!node.IsMap()) {
      Error(path, absl::StrCat("expected a map, got ", Describe(node)));
      return out;
    }
    absl::flat_hash_set<std::string> seen;
    absl::flat_hash_map<const OneofDescriptor*, const FieldDescriptor*> oneof_members;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        Error(path, absl::StrCat("keys must be plain names, got ", Describe(entry.first)));
        continue;
      }
      const std::string& key = entry.first.Scalar();
      const std::string field_path = FieldPath(path, key);
      const FieldDescriptor* field = descriptor.FindFieldByName(key);
      if (field == nullptr) {
        Error(field_path,
              absl::StrCat("unknown key (expected one of: ", FieldNames(descriptor), ")"));
        continue;
      }
      if (!seen.insert(key).second) {
        Error(field_path, "duplicate key");
        continue;
      }
      if (entry.second.IsNull()) continue;
      if (const OneofDescriptor* oneof = field->real_containing_oneof(); oneof != nullptr) {
        auto [it, inserted] = oneof_members.try_emplace(oneof, field);
        if (!inserted) {
          Error(path, absl::StrCat(it->second->name(), " and ", field->name(),
                                   " cannot both be set (set at most one)"));
          continue;
        }
      }
      std::optional<boost::json::value> value = Field(entry.second, *field, field_path);
      if (value.has_value()) out[field->json_name()] = std::move(*value);
    }
    return out;
  }

 private:
  void Error(const std::string& path, std::string message) {
    errors_->push_back(ConfigError{path, std::move(message)});
  }

  std::optional<boost::json::value> Field(const YAML::Node& node, const FieldDescriptor& field,
                                          const std::string& path) {
    if (field.is_map()) return Map(node, field, path);
    if (!field.is_repeated()) return Singular(node, field, path);
    if (!node.IsSequence()) {
      Error(path, absl::StrCat("expected a list, got ", Describe(node)));
      return std::nullopt;
    }
    boost::json::array out;
    for (size_t i = 0; i < node.size(); ++i) {
      std::optional<boost::json::value> element = Singular(node[i], field, IndexPath(path, i));
      if (element.has_value()) out.push_back(std::move(*element));
    }
    return boost::json::value(std::move(out));
  }

  std::optional<boost::json::value> Map(const YAML::Node& node, const FieldDescriptor& field,
                                        const std::string& path) {
    if (!node.IsMap()) {
      Error(path, absl::StrCat("expected a map, got ", Describe(node)));
      return std::nullopt;
    }
    const FieldDescriptor& key_field = *field.message_type()->map_key();
    const FieldDescriptor& value_field = *field.message_type()->map_value();
    boost::json::object out;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        Error(path, absl::StrCat("keys must be plain names, got ", Describe(entry.first)));
        continue;
      }
      const std::string& key = entry.first.Scalar();
      const std::string entry_path = FieldPath(path, key);
      absl::StatusOr<boost::json::value> checked_key = ScalarToJson(key_field, key);
      if (!checked_key.ok()) {
        Error(entry_path, absl::StrCat("invalid key: ", checked_key.status().message()));
        continue;
      }
      if (out.contains(key)) {
        Error(entry_path, "duplicate key");
        continue;
      }
      std::optional<boost::json::value> value = Singular(entry.second, value_field, entry_path);
      if (value.has_value()) out[key] = std::move(*value);
    }
    return boost::json::value(std::move(out));
  }

  // One value of `field`'s element type: a nested message, a duration or a scalar.
  std::optional<boost::json::value> Singular(const YAML::Node& node, const FieldDescriptor& field,
                                             const std::string& path) {
    const bool scalar_form =
        field.cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || IsDurationField(field);
    if (!scalar_form) {
      const Descriptor& type = *field.message_type();
      if (absl::StartsWith(type.full_name(), "google.protobuf.")) {
        Error(path, absl::StrCat("fields of type ", type.full_name(),
                                 " are not supported in config files"));
        return std::nullopt;
      }
      return boost::json::value(Message(node, type, path));
    }
    if (!node.IsScalar()) {
      Error(path, absl::StrCat("expected ", ExpectedKind(field), ", got ", Describe(node)));
      return std::nullopt;
    }
    std::vector<std::string> problems;
    const std::string text = ExpandEnvReferences(node.Scalar(), env_, &problems);
    if (!problems.empty()) {
      for (std::string& problem : problems) Error(path, std::move(problem));
      return std::nullopt;
    }
    absl::StatusOr<boost::json::value> value = ScalarToJson(field, text);
    if (!value.ok()) {
      Error(path, std::string(value.status().message()));
      return std::nullopt;
    }
    return *std::move(value);
  }

  const EnvLookup& env_;
  std::vector<ConfigError>* errors_;
};

}  // namespace

boost::json::object YamlToJson(const YAML::Node& node, const Descriptor& descriptor,
                               const EnvLookup& env, std::vector<ConfigError>* errors) {
  if (node.IsNull()) return {};
  if (!node.IsMap()) {
    errors->push_back(
        ConfigError{"", absl::StrCat("the config must be a map of keys, got ", Describe(node))});
    return {};
  }
  return Converter(env, errors).Message(node, descriptor, "");
}

}  // namespace llmesh::config
