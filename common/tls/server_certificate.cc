#include "common/tls/server_certificate.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"

namespace llmesh::tls {
namespace {

// OpenSSL's reason for the last failure; clears its error queue.
std::string OpenSslReason() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  const char* reason = code == 0 ? nullptr : ERR_reason_error_string(code);
  return reason != nullptr ? reason : "unknown error";
}

std::string Quote(std::string_view s) { return absl::StrCat("\"", AbslView(s), "\""); }

}  // namespace

std::optional<CertificateError> LoadServerCertificate(SSL_CTX* context, const std::string& cert_file,
                                                      const std::string& key_file,
                                                      std::string_view field_prefix) {
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(context, cert_file.c_str()) != 1) {
    return CertificateError{absl::StrCat(AbslView(field_prefix), "cert_file"),
                            absl::StrCat(Quote(cert_file), ": not a PEM certificate (", OpenSslReason(), ")")};
  }
  // Loading the key also checks it against the certificate; a mismatch is named as such.
  const bool loaded = SSL_CTX_use_PrivateKey_file(context, key_file.c_str(), SSL_FILETYPE_PEM) == 1;
  if (!loaded && ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
    return CertificateError{absl::StrCat(AbslView(field_prefix), "key_file"),
                            absl::StrCat(Quote(key_file), ": not a PEM private key (", OpenSslReason(), ")")};
  }
  if (!loaded || SSL_CTX_check_private_key(context) != 1) {
    ERR_clear_error();
    return CertificateError{absl::StrCat(AbslView(field_prefix), "key_file"),
                            absl::StrCat(Quote(key_file), ": not the key of ", AbslView(field_prefix), "cert_file ",
                                         Quote(cert_file))};
  }
  return std::nullopt;
}

}  // namespace llmesh::tls
