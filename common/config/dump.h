// The config as JSON for the admin endpoint /config_dump, with secrets redacted.
//
// Called by the admin listener on the main thread with the config currently in force. The
// config itself holds no key material (only environment variable names and file paths, which
// are shown); what could carry a secret is a URL's user-info or query string, and those are
// replaced by "[redacted]". Pure functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "llmesh/config/v1/config.pb.h"

namespace llmesh::config {

// Pretty-printed proto JSON of `config` with the YAML (snake_case) key names, fields left at
// their default omitted, and every provider's base_url passed through RedactUrl. The output is
// itself a valid config file for ParseConfigYaml (JSON is YAML), as long as no string holds a
// literal "${".
std::string ConfigDumpJson(const llmesh::config::v1::Config& config);

// `url` with its user-info and its query string replaced by "[redacted]":
// "https://user:pw@host/v1?key=x#f" -> "https://[redacted]@host/v1?[redacted]#f". Works on
// malformed text too (never echoes what may be a password): everything between "://" and the
// last "@" before the query is treated as user-info.
std::string RedactUrl(std::string_view url);

}  // namespace llmesh::config
