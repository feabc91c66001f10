// TLS for HttpServer listeners: the server context built from a PEM certificate chain and key,
// offering "h2" and "http/1.1" by ALPN (h2 preferred; a client that offers neither, or no ALPN
// at all, gets HTTP/1.1).
//
// Threading: built once (at Start, on the owner's thread, reading the files); the context is
// then shared read-only by every worker's handshakes, which OpenSSL allows.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "absl/status/statusor.h"

namespace llmesh::http {

struct ServerTlsFiles {
  // PEM certificate chain, leaf first.
  std::string cert_file;
  // PEM private key of the leaf certificate.
  std::string key_file;
};

// Reads both files and checks that the key matches the certificate. INVALID_ARGUMENT naming the
// file and OpenSSL's reason when a file is missing, unreadable, not PEM, or the pair does not
// match. Blocking file I/O: call at start or from a config loader, never on a worker.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const ServerTlsFiles& files);

// The protocol ALPN selected on a completed server handshake: "h2", "http/1.1" or empty.
std::string_view SelectedAlpn(SSL* ssl);

}  // namespace llmesh::http
