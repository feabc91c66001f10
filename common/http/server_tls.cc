#include "common/http/server_tls.h"

#include <openssl/ssl.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/tls/alpn.h"
#include "common/tls/server_certificate.h"

namespace llmesh::http {
namespace {

namespace ssl = boost::asio::ssl;

bool Offered(const unsigned char* in, unsigned int in_length, const unsigned char* protocol,
             const unsigned char** out, unsigned char* out_length) {
  // Bounded: every step advances past one length-prefixed protocol name.
  for (unsigned int i = 0; i < in_length;) {
    const unsigned int length = in[i];
    if (i + 1 + length > in_length) return false;
    if (length == protocol[0] && std::equal(in + i + 1, in + i + 1 + length, protocol + 1)) {
      *out = in + i + 1;
      *out_length = static_cast<unsigned char>(length);
      return true;
    }
    i += 1 + length;
  }
  return false;
}

int SelectProtocol(SSL*, const unsigned char** out, unsigned char* out_length,
                   const unsigned char* in, unsigned int in_length, void*) {
  // Our order of preference, whatever the client's.
  if (Offered(in, in_length, tls::kAlpnH2, out, out_length) ||
      Offered(in, in_length, tls::kAlpnHttp11, out, out_length)) {
    return SSL_TLSEXT_ERR_OK;
  }
  // Nothing we speak was offered: go on without ALPN (HTTP/1.1).
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

absl::StatusOr<std::shared_ptr<ssl::context>> MakeServerTlsContext(const ServerTlsFiles& files) {
  if (files.cert_file.empty()) return absl::InvalidArgumentError("cert_file: required");
  if (files.key_file.empty()) return absl::InvalidArgumentError("key_file: required");
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (std::optional<tls::CertificateError> error =
          tls::LoadServerCertificate(native, files.cert_file, files.key_file, "")) {
    return absl::InvalidArgumentError(absl::StrCat(error->field, ": ", error->message));
  }
  SSL_CTX_set_alpn_select_cb(native, &SelectProtocol, nullptr);
  return context;
}

std::string_view SelectedAlpn(SSL* ssl) {
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl, &data, &length);
  if (data == nullptr) return {};
  return std::string_view(reinterpret_cast<const char*>(data), length);
}

}  // namespace llmesh::http
