// Descriptor-guided conversion of a parsed YAML document into the proto JSON form of a message.
//
// The middle step of config loading (YAML text -> YAML tree -> JSON -> proto): it checks keys,
// shapes and scalar types against the message descriptor so each problem is reported with its
// field path, expands `${NAME}` references in scalar values, and keeps going after a problem
// so one run reports them all. Main thread only; not on the request path.
#pragma once

#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <google/protobuf/descriptor.h>
#include <yaml-cpp/yaml.h>

#include "common/config/config_error.h"
#include "common/config/env.h"

namespace llmesh::config {

// Converts `node` (a map, or null for an empty document) into the JSON object that proto's
// JSON parser accepts for `descriptor`. Appends one ConfigError per problem to `*errors`; the
// returned object is complete only when nothing was appended. Null values (`key:` or `key: ~`)
// leave the field unset. `errors` must not be null; `env` is called for each reference.
boost::json::object YamlToJson(const YAML::Node& node,
                               const google::protobuf::Descriptor& descriptor,
                               const EnvLookup& env, std::vector<ConfigError>* errors);

}  // namespace llmesh::config
