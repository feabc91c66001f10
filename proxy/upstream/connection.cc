#include "proxy/upstream/connection.h"

#include <sys/socket.h>

#include <cerrno>
#include <utility>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"

namespace llmesh::upstream::internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// ALPN protocol list in wire format: length-prefixed names.
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

template <class Stream>
asio::awaitable<beast::error_code> WriteOn(Stream& stream, const Request& request) {
  auto [ec, bytes] = co_await http::async_write(stream, request, kAwait);
  co_return ec;
}

template <class Stream>
asio::awaitable<beast::error_code> ReadHeaderOn(Stream& stream, beast::flat_buffer& buffer, ResponseParser& parser) {
  auto [ec, bytes] = co_await http::async_read_header(stream, buffer, parser, kAwait);
  co_return ec;
}

template <class Stream>
asio::awaitable<beast::error_code> ReadSomeOn(Stream& stream, beast::flat_buffer& buffer, ResponseParser& parser) {
  auto [ec, bytes] = co_await http::async_read_some(stream, buffer, parser, kAwait);
  co_return ec;
}

// Sets SNI, ALPN and the name the leaf certificate must carry. OpenSSL's own host check (rather
// than a verify callback) leaves a precise reason, e.g. "hostname mismatch", in the verify result.
absl::Status ConfigureTls(SSL* ssl, const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  const bool ip_literal = !ec;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  int ok = 0;
  if (ip_literal) {
    ok = X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    ok = X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) && SSL_set_tlsext_host_name(ssl, host.c_str());
  }
  // SSL_set_alpn_protos returns 0 on success.
  if (ok != 1 || SSL_set_alpn_protos(ssl, kAlpnHttp11, sizeof(kAlpnHttp11)) != 0) {
    return absl::UnavailableError(absl::StrCat("tls: cannot configure the session for ", host));
  }
  return absl::OkStatus();
}

}  // namespace

Connection::Connection(asio::io_context& io, Endpoint endpoint, ssl::context* tls_context)
    : endpoint_(std::move(endpoint)) {
  if (tls_context != nullptr) {
    tls_.emplace(io, *tls_context);
  } else {
    plain_.emplace(io);
  }
}

asio::awaitable<absl::Status> Connection::Open(const tcp::resolver::results_type& addresses, MonoTime deadline) {
  const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
  tcp().expires_at(deadline);
  auto [connect_ec, address] = co_await tcp().async_connect(addresses, kAwait);
  if (connect_ec == beast::error::timeout) {
    co_return absl::DeadlineExceededError(
        absl::StrCat("connect: deadline passed connecting to ", endpoint_.Authority()));
  }
  if (connect_ec == asio::error::operation_aborted) co_return absl::CancelledError("connect: cancelled");
  if (connect_ec) {
    co_return absl::UnavailableError(absl::StrCat("connect: ", endpoint_.Authority(), ": ", connect_ec.message()));
  }
  beast::error_code option_ec;
  tcp().socket().set_option(tcp::no_delay(true), option_ec);
  if (!tls_) co_return absl::OkStatus();

  if (CancellationRequested(cancellation)) co_return absl::CancelledError("tls: cancelled");
  SSL* ssl = tls_->native_handle();
  if (absl::Status s = ConfigureTls(ssl, endpoint_.host); !s.ok()) co_return s;
  tcp().expires_at(deadline);
  auto [handshake_ec] = co_await tls_->async_handshake(ssl::stream_base::client, kAwait);
  if (!handshake_ec) co_return absl::OkStatus();
  if (handshake_ec == beast::error::timeout) {
    co_return absl::DeadlineExceededError(
        absl::StrCat("tls: deadline passed during the handshake with ", endpoint_.Authority()));
  }
  if (handshake_ec == asio::error::operation_aborted) co_return absl::CancelledError("tls: cancelled");
  const long verify_result = SSL_get_verify_result(ssl);
  if (verify_result != X509_V_OK) {
    co_return absl::UnavailableError(absl::StrCat("tls: certificate verify failed for ", endpoint_.host, ": ",
                                                  X509_verify_cert_error_string(verify_result)));
  }
  co_return absl::UnavailableError(
      absl::StrCat("tls: handshake with ", endpoint_.Authority(), " failed: ", handshake_ec.message()));
}

asio::awaitable<beast::error_code> Connection::Write(const Request& request, MonoTime deadline) {
  tcp().expires_at(deadline);
  if (tls_) co_return co_await WriteOn(*tls_, request);
  co_return co_await WriteOn(*plain_, request);
}

asio::awaitable<beast::error_code> Connection::ReadHeader(ResponseParser& parser, MonoTime deadline) {
  tcp().expires_at(deadline);
  if (tls_) co_return co_await ReadHeaderOn(*tls_, buffer_, parser);
  co_return co_await ReadHeaderOn(*plain_, buffer_, parser);
}

asio::awaitable<beast::error_code> Connection::ReadBodyPiece(ResponseParser& parser, MonoTime deadline) {
  parser.get().body().piece = {};
  tcp().expires_at(deadline);
  beast::error_code ec;
  if (tls_) {
    ec = co_await ReadSomeOn(*tls_, buffer_, parser);
  } else {
    ec = co_await ReadSomeOn(*plain_, buffer_, parser);
  }
  if (ec == http::error::need_buffer) ec = {};
  co_return ec;
}

bool Connection::PeerClosed() {
  tcp::socket& socket = tcp().socket();
  if (!socket.is_open()) return true;
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;
  if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  return !tls_;
}

void Connection::Close() { tcp().close(); }

bool IsPeerGone(const beast::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::error::not_connected ||
         ec == http::error::end_of_stream || ec == ssl::error::stream_truncated;
}

absl::Status ExchangeError(const beast::error_code& ec, const Endpoint& endpoint, std::string_view activity) {
  if (ec == beast::error::timeout) {
    return absl::DeadlineExceededError(
        absl::StrCat("upstream ", endpoint.Authority(), ": deadline passed while ", AbslView(activity)));
  }
  if (ec == asio::error::operation_aborted) {
    return absl::CancelledError(
        absl::StrCat("upstream ", endpoint.Authority(), ": cancelled while ", AbslView(activity)));
  }
  const bool http_error = ec.category() == http::make_error_code(http::error::bad_version).category();
  if (http_error && ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return absl::InternalError(absl::StrCat("upstream ", endpoint.Authority(), ": malformed HTTP response while ",
                                            AbslView(activity), ": ", ec.message()));
  }
  return absl::AbortedError(absl::StrCat("upstream ", endpoint.Authority(), ": connection lost while ",
                                         AbslView(activity), ": ", ec.message()));
}

}  // namespace llmesh::upstream::internal
