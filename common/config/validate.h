// Semantic validation of a loaded config: the rules the schema alone cannot express (required
// fields, unique names, references between routes and providers, ranges, readable files).
//
// Runs after the loader (loader.h) and before the config is compiled into a snapshot, for a
// file at start-up, for `llmesh-proxy --validate`, and for every control-plane push. Main thread
// only: it checks key files and CA files with blocking file system calls.
//
// Comparisons between two durations (timeouts, ejection times) apply only when both are set;
// a field left at its default is resolved by the snapshot compiler, which must keep its
// defaults within what the user did set (e.g. clamp first_byte to total).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/config/config_error.h"
#include "common/config/env.h"
#include "common/config/loader.h"
#include "llmesh/config/v1/config.pb.h"

namespace llmesh::config {

// Every semantic problem in `config`, in document order, each with its field path and the
// offending value, e.g. {"routes[1].targets[0].provider", "unknown provider \"opnai\""}.
// Empty when the config is valid. `env` answers whether api_key_env variables are set.
std::vector<ConfigError> Validate(const llmesh::config::v1::Config& config,
                                  const EnvLookup& env);

// Validate() without the checks that depend on the host the config will run on: whether
// api_key_env variables are set and api_key_file / ca_file are readable (their presence is
// still checked). For a control plane validating config meant for sidecars elsewhere.
std::vector<ConfigError> ValidatePortable(const llmesh::config::v1::Config& config);

// Validate() as a status: OK when there are no errors, otherwise INVALID_ARGUMENT listing every
// error as "path: message", one per line.
absl::Status ValidateToStatus(const llmesh::config::v1::Config& config, const EnvLookup& env);

// Every problem of a partially loaded config: its schema errors, then the Validate() errors of
// the parts that loaded, leaving out those at or below a path that already has a schema error
// (they would only restate it, e.g. "required" for a value that could not be read). OK when
// there is none; otherwise INVALID_ARGUMENT, one "path: message" per line.
absl::Status ValidateToStatus(const PartialConfig& loaded, const EnvLookup& env);

// One line describing a (valid) config, e.g.
// "config OK: 2 providers (3 models), 2 routes, 4 targets".
std::string Summary(const llmesh::config::v1::Config& config);

}  // namespace llmesh::config
