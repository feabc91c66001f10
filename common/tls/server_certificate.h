// Loads a server's PEM certificate chain and private key into an OpenSSL context, with an error
// that names the file at fault.
//
// Not on the request path: the listener (common/http) calls it when it builds its TLS context,
// and config validation (common/config) calls it to check `listen_tls` before a config is used,
// so both report the same problem the same way. Reads the files (blocking). Thread-safe for
// distinct contexts.
#pragma once

#include <openssl/ssl.h>

#include <optional>
#include <string>
#include <string_view>

namespace llmesh::tls {

struct CertificateError {
  // `field_prefix` + "cert_file" or + "key_file": the file at fault.
  std::string field;
  // What is wrong, quoting the file: `"k.pem": not a PEM private key (bad decrypt)`.
  std::string message;
};

// Loads `cert_file` (the chain, leaf first) and `key_file` into `context` and checks that the key
// belongs to the certificate. `field_prefix` names the config message the files come from
// ("listen_tls." or ""), in CertificateError::field and in the message of a key that does not
// match. nullopt on success. Leaves OpenSSL's error queue empty.
std::optional<CertificateError> LoadServerCertificate(SSL_CTX* context, const std::string& cert_file,
                                                      const std::string& key_file,
                                                      std::string_view field_prefix);

}  // namespace llmesh::tls
