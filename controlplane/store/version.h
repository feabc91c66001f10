// Versions of pushed resources: content hashes, so that every replica and every restart of
// llmesh-control names the same content with the same version (docs/control-plane.md).
//
// Used by the store (recomputed in every write transaction) and by the discovery service (the
// `version_info` of every push). Pure functions; safe from any thread.
#pragma once

#include <string>

#include "llmesh/discovery/v1/discovery.pb.h"

namespace llmesh::control {

// The first 16 bytes of SHA-256 over the deterministic serialisation of `config`, as 32
// lower-case hex digits. The order of providers and routes is part of the content: the store
// passes providers sorted by name and routes in match order.
std::string RouteConfigurationVersion(const llmesh::discovery::v1::RouteConfiguration& config);

// The same rule for any resource: the first 16 bytes of SHA-256 over `message`'s deterministic
// serialisation, as 32 lower-case hex digits.
std::string ContentVersion(const google::protobuf::MessageLite& message);

// `message`'s deterministic binary serialisation (map entries sorted), the form the store keeps
// and hashes.
std::string DeterministicBytes(const google::protobuf::MessageLite& message);

}  // namespace llmesh::control
