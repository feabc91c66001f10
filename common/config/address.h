// Parsing of "host:port" addresses written in configs (listen, admin_listen, control_plane).
//
// Used when a config is validated and when listeners are set up, on the main thread. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace llmesh::config {

struct HostPort {
  // A numeric IPv4 literal, an IPv6 literal without its brackets ("::1"), or a hostname.
  std::string host;
  uint16_t port = 0;
};

// Parses "host:port": "127.0.0.1:4000", "[::1]:4000", "localhost:0",
// "llmesh-control.llmesh.svc:15010". The port is decimal, 0..65535. Returns INVALID_ARGUMENT
// whose message names the value and the reason, e.g.
// `invalid address "localhost": missing port (expected host:port, e.g. 127.0.0.1:4000)`.
absl::StatusOr<HostPort> ParseHostPort(std::string_view address);

}  // namespace llmesh::config
