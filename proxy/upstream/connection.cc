#include "proxy/upstream/connection.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <span>
#include <tuple>
#include <utility>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "common/http/wire.h"
#include "common/net/write_all.h"
#include "common/tls/alpn.h"

namespace llmesh::upstream::internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// Reads are at least this large so a response head and a small body arrive in one read, and at
// most this large so one exchange cannot grow the buffer without bound between parse steps.
constexpr size_t kMinRead = 16 << 10;
constexpr size_t kMaxRead = 64 << 10;

std::span<const unsigned char> AlpnOffer(Http2Mode mode, bool offer_http2) {
  if (mode == Http2Mode::kPriorKnowledge) return tls::kAlpnH2;
  if (mode == Http2Mode::kAuto && offer_http2) return tls::kAlpnH2AndHttp11;
  return tls::kAlpnHttp11;
}

// Sets SNI, ALPN and the name the leaf certificate must carry. OpenSSL's own host check (rather
// than a verify callback) leaves a precise reason, e.g. "hostname mismatch", in the verify result.
absl::Status ConfigureTls(SSL* ssl, const std::string& host, std::span<const unsigned char> alpn) {
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
  if (ok != 1 || SSL_set_alpn_protos(ssl, alpn.data(), static_cast<unsigned>(alpn.size())) != 0) {
    return absl::UnavailableError(absl::StrCat("tls: cannot configure the session for ", host));
  }
  return absl::OkStatus();
}

}  // namespace

Connection::Connection(asio::io_context& io, Endpoint endpoint, ssl::context* tls_context)
    : endpoint_(std::move(endpoint)),
      deadline_(io.get_executor(), [this] {
        timed_out_ = true;
        beast::error_code ignored;
        socket().close(ignored);
      }) {
  if (tls_context != nullptr) {
    tls_.emplace(io, *tls_context);
  } else {
    plain_.emplace(io);
  }
}

// A deadline already passed still lets the operation start; the expiry, run next, closes the
// socket under it.
void Connection::StartDeadline(MonoTime deadline) { deadline_.Set(deadline); }

beast::error_code Connection::EndDeadline(beast::error_code ec) {
  deadline_.Clear();
  if (timed_out_ && ec) return beast::error::timeout;
  return ec;
}

asio::awaitable<absl::Status> Connection::Open(const tcp::resolver::results_type& addresses, MonoTime deadline,
                                               bool offer_http2) {
  const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
  StartDeadline(deadline);
  auto [raw_connect_ec, address] = co_await asio::async_connect(socket(), addresses, kAwait);
  const beast::error_code connect_ec = EndDeadline(raw_connect_ec);
  if (connect_ec == beast::error::timeout) {
    co_return absl::DeadlineExceededError(
        absl::StrCat("connect: deadline passed connecting to ", endpoint_.Authority()));
  }
  if (connect_ec == asio::error::operation_aborted) co_return absl::CancelledError("connect: cancelled");
  if (connect_ec) {
    co_return absl::UnavailableError(absl::StrCat("connect: ", endpoint_.Authority(), ": ", connect_ec.message()));
  }
  beast::error_code option_ec;
  socket().set_option(tcp::no_delay(true), option_ec);
  if (!tls_) {
    http2_ = endpoint_.http2 == Http2Mode::kPriorKnowledge;
    co_return absl::OkStatus();
  }

  if (CancellationRequested(cancellation)) co_return absl::CancelledError("tls: cancelled");
  SSL* ssl = tls_->native_handle();
  const absl::Status configured = ConfigureTls(ssl, endpoint_.host, AlpnOffer(endpoint_.http2, offer_http2));
  if (!configured.ok()) co_return configured;
  StartDeadline(deadline);
  auto [raw_handshake_ec] = co_await tls_->async_handshake(ssl::stream_base::client, kAwait);
  const beast::error_code handshake_ec = EndDeadline(raw_handshake_ec);
  if (!handshake_ec) {
    const unsigned char* agreed = nullptr;
    unsigned agreed_size = 0;
    SSL_get0_alpn_selected(ssl, &agreed, &agreed_size);
    const bool h2_agreed = agreed_size == 2 && agreed[0] == 'h' && agreed[1] == '2';
    http2_ = endpoint_.http2 == Http2Mode::kPriorKnowledge ||
             (endpoint_.http2 == Http2Mode::kAuto && offer_http2 && h2_agreed);
    co_return absl::OkStatus();
  }
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
  head_.clear();
  llmesh::http::AppendRequestHead(request.base(), head_);
  const std::array<asio::const_buffer, 2> buffers = {asio::buffer(head_), asio::buffer(request.body())};
  StartDeadline(deadline);
  beast::error_code ec;
  if (tls_) {
    std::tie(ec, std::ignore) = co_await asio::async_write(*tls_, buffers, kAwait);
  } else {
    ec = co_await net::WriteAll(*plain_, buffers);
  }
  co_return EndDeadline(ec);
}

asio::awaitable<beast::error_code> Connection::ReadMore() {
  const size_t room = std::clamp(buffer_.capacity() - buffer_.size(), kMinRead, kMaxRead);
  beast::error_code ec;
  size_t n = 0;
  if (tls_) {
    std::tie(ec, n) = co_await tls_->async_read_some(buffer_.prepare(room), kAwait);
  } else {
    std::tie(ec, n) = co_await plain_->async_read_some(buffer_.prepare(room), kAwait);
  }
  buffer_.commit(n);
  co_return ec;
}

beast::error_code Connection::Parse(ResponseParser& parser, size_t& used) {
  beast::error_code ec;
  used = parser.put(buffer_.data(), ec);
  buffer_.consume(used);
  return ec;
}

beast::error_code Connection::OnEndOfFile(ResponseParser& parser) {
  if (!parser.got_some()) return http::error::end_of_stream;
  beast::error_code ec;
  parser.put_eof(ec);
  return ec;
}

asio::awaitable<beast::error_code> Connection::ReadHeader(ResponseParser& parser, MonoTime deadline) {
  StartDeadline(deadline);
  beast::error_code ec;
  // Each round consumes buffered bytes or reads more; the parser's header limit and the deadline
  // bound the rounds.
  for (;;) {
    if (buffer_.size() > 0) {
      size_t used = 0;
      ec = Parse(parser, used);
      if (parser.is_header_done()) {
        ec = {};
        break;
      }
      if (!ec && used > 0) continue;
      if (ec && ec != http::error::need_more) break;
    }
    ec = co_await ReadMore();
    if (ec == asio::error::eof) ec = OnEndOfFile(parser);
    if (ec || parser.is_header_done()) break;
  }
  co_return EndDeadline(ec);
}

asio::awaitable<beast::error_code> Connection::ReadBodyPiece(ResponseParser& parser, MonoTime deadline) {
  parser.clear_piece();
  StartDeadline(deadline);
  beast::error_code ec;
  // As in ReadHeader: every round consumes bytes, reads more or ends.
  for (;;) {
    if (buffer_.size() > 0) {
      size_t used = 0;
      ec = Parse(parser, used);
      if (!ec && (!parser.piece().empty() || parser.is_done())) break;
      if (!ec && used > 0) continue;  // framing only (a chunk header)
      if (ec && ec != http::error::need_more) break;
    }
    ec = co_await ReadMore();
    if (ec == asio::error::eof) ec = OnEndOfFile(parser);
    if (ec || parser.is_done()) break;
  }
  co_return EndDeadline(ec);
}

bool Connection::PeerClosed() {
  tcp::socket& socket = this->socket();
  if (!socket.is_open()) return true;
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;
  if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  return !tls_;
}

void Connection::Close() {
  deadline_.Clear();
  beast::error_code ignored;
  socket().close(ignored);
}

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
