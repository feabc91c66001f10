// Listen-address parsing shared by every listener ("--listen", config `listen` fields).
//
// Accepts "127.0.0.1:0", "0.0.0.0:4000", "[::1]:4000" and "localhost:80". Only numeric
// addresses and "localhost" (127.0.0.1) are accepted: a listener never blocks on DNS.
// Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "absl/status/statusor.h"

namespace llmesh::http {

// Parses "host:port". INVALID_ARGUMENT (naming the bad value) for a missing or non-numeric
// port, a port above 65535, an unbracketed IPv6 address or a host name other than localhost.
absl::StatusOr<boost::asio::ip::tcp::endpoint> ParseHostPort(std::string_view host_port);

// Formats an endpoint as "127.0.0.1:4000" or "[::1]:4000".
std::string FormatHostPort(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace llmesh::http
