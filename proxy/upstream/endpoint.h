// Where an upstream connection goes: host, port, TLS, the trust anchors to verify it with and
// whether HTTP/2 may or must be spoken.
//
// Bottom of the request path (UpstreamPool). An Endpoint is the pool key: two requests share
// keep-alive connections exactly when their Endpoints compare equal. Endpoints are built once per
// config from a provider's `base_url` (ParseBaseUrl) and then only copied and compared. Plain
// values: safe to copy between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace llmesh::upstream {

// HTTP/2 to an endpoint (config: Provider.http2).
enum class Http2Mode : uint8_t {
  // TLS endpoints offer ALPN "h2" and "http/1.1" and speak what the server picks; plain ones
  // speak HTTP/1.1.
  kAuto,
  // HTTP/1.1 only (ALPN "http/1.1").
  kOff,
  // HTTP/2 without negotiation: h2c on plain endpoints, h2 on TLS ones whatever ALPN agreed.
  kPriorKnowledge,
};

struct Endpoint {
  // DNS name (lower case) or IP literal (IPv6 without brackets). Also the TLS SNI name (for DNS
  // names) and the name the server certificate is verified against.
  std::string host;
  uint16_t port = 0;
  bool tls = false;
  // PEM file of trusted CAs; empty = the system CA store. Verification is always on.
  std::string ca_file;
  Http2Mode http2 = Http2Mode::kAuto;

  // True when a connection to this endpoint may turn out to speak HTTP/2.
  bool MaySpeakHttp2() const {
    return http2 == Http2Mode::kPriorKnowledge || (http2 == Http2Mode::kAuto && tls);
  }

  // Value for the HTTP Host header: host, bracketed when IPv6, with ":port" unless the port is
  // the scheme's default.
  std::string HostHeader() const;
  // "host:port", for messages and logs.
  std::string Authority() const;

  friend bool operator==(const Endpoint& a, const Endpoint& b) {
    return a.port == b.port && a.tls == b.tls && a.http2 == b.http2 && a.host == b.host &&
           a.ca_file == b.ca_file;
  }
  friend bool operator!=(const Endpoint& a, const Endpoint& b) { return !(a == b); }
  template <typename H>
  friend H AbslHashValue(H h, const Endpoint& e) {
    return H::combine(std::move(h), e.host, e.port, e.tls, e.ca_file, e.http2);
  }
};

// A provider base URL split into the pool key and the path prefix of every request target.
struct ParsedBaseUrl {
  Endpoint endpoint;
  // Path of the URL, still percent-encoded, without a trailing slash: "https://h/v1/" -> "/v1",
  // "https://h" -> "". Request targets are base_path + "/chat/completions" and the like.
  std::string base_path;
};

// Parses an absolute http:// or https:// URL. The port defaults to 80 / 443; `ca_file` is copied
// into the endpoint; `http2` is left at kAuto (the caller sets it from the provider's config).
// INVALID_ARGUMENT (the message quotes the URL and says what is wrong) for another scheme, a
// missing host, user info (credentials do not belong in a URL), a query or a fragment, or a bad
// port.
absl::StatusOr<ParsedBaseUrl> ParseBaseUrl(std::string_view base_url, std::string ca_file = {});

// ParseBaseUrl for callers that want the Endpoint; the base path goes to `*base_path` when it is
// not null.
absl::StatusOr<Endpoint> EndpointFromUrl(std::string_view base_url, std::string ca_file = {},
                                         std::string* base_path = nullptr);

}  // namespace llmesh::upstream
