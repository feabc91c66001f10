// ALPN protocol names in TLS wire format (a length byte, then the name), shared by the listener,
// which chooses among what a client offers, and the upstream connections, which offer them.
#pragma once

namespace llmesh::tls {

inline constexpr unsigned char kAlpnH2[] = {2, 'h', '2'};
inline constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
// Both, h2 preferred: what an HTTP/2-capable client offers.
inline constexpr unsigned char kAlpnH2AndHttp11[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

}  // namespace llmesh::tls
