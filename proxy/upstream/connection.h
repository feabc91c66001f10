// One upstream socket — plain TCP or TLS over TCP — with deadline-bounded I/O primitives.
//
// Internal to the upstream layer: UpstreamPool opens, parks and hands out Connections; Exchange
// runs one request/response on one. Owned by exactly one of them at a time and used only on the
// pool's io_context thread. Deadlines are absolute steady times kept by an IoDeadline on the
// TCP socket, so they bound TLS operations too; when one passes the socket is closed and the
// operation fails with beast::error::timeout. Responses are parsed straight from the read
// buffer and requests written without waiting when the kernel takes them, so an exchange whose
// bytes are already there costs no trip through the event loop.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/http/io_deadline.h"
#include "proxy/upstream/endpoint.h"
#include "proxy/upstream/response_parser.h"

namespace llmesh::upstream::internal {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using TlsStream = boost::beast::ssl_stream<boost::asio::ip::tcp::socket>;

class Connection {
 public:
  // `tls_context` is null for a plain connection; otherwise it must outlive the Connection.
  Connection(boost::asio::io_context& io, Endpoint endpoint, boost::asio::ssl::context* tls_context);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const Endpoint& endpoint() const { return endpoint_; }
  boost::asio::ip::tcp::socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }
  // The TLS stream over socket(), or null for a plain connection.
  TlsStream* tls_stream() { return tls_ ? &*tls_ : nullptr; }
  boost::beast::flat_buffer& buffer() { return buffer_; }

  // True once the connection has served an exchange and come back from the idle list.
  bool reused() const { return reused_; }
  void set_reused() { reused_ = true; }
  MonoTime idle_since() const { return idle_since_; }
  void set_idle_since(MonoTime t) { idle_since_ = t; }

  // TCP connect to the first reachable address, TCP_NODELAY, then for TLS the handshake (SNI for
  // DNS names, chain and host name verification, ALPN by the endpoint's Http2Mode: kPriorKnowledge
  // offers "h2"; kAuto offers "h2" and "http/1.1" when `offer_http2`, else "http/1.1" like kOff).
  // UNAVAILABLE when the peer cannot be reached or the handshake or certificate check fails;
  // DEADLINE_EXCEEDED when `deadline` passes; CANCELLED when the awaiting coroutine is cancelled.
  boost::asio::awaitable<absl::Status> Open(const boost::asio::ip::tcp::resolver::results_type& addresses,
                                            MonoTime deadline, bool offer_http2 = false);

  // After a successful Open: true when the connection is to speak HTTP/2 (prior knowledge, or
  // ALPN agreed on "h2" under kAuto), false for HTTP/1.1.
  bool http2() const { return http2_; }

  // Serialises `request` onto the connection; its framing fields (Content-Length) must be set.
  // The raw error code is returned so that the caller can tell a stale pooled connection
  // (IsPeerGone) from other failures.
  boost::asio::awaitable<boost::beast::error_code> Write(const Request& request, MonoTime deadline);
  // Reads until the parser has the whole response head.
  boost::asio::awaitable<boost::beast::error_code> ReadHeader(ResponseParser& parser, MonoTime deadline);
  // One parse step of the body: at most one piece lands in parser.piece(); none when only
  // framing was consumed.
  boost::asio::awaitable<boost::beast::error_code> ReadBodyPiece(ResponseParser& parser, MonoTime deadline);

  // Non-blocking check of an idle connection: true when the peer has closed or reset it, or (plain
  // HTTP only) sent bytes nobody asked for. For TLS, pending bytes may be session tickets, so they
  // do not count.
  bool PeerClosed();
  // Closes the socket at once (no TLS close_notify: the peer sees a FIN).
  void Close();

 private:
  // Reads what the socket has into buffer_ (waiting for at least one byte).
  boost::asio::awaitable<boost::beast::error_code> ReadMore();
  // One parser step over the buffered bytes; consumes what the parser `used`.
  boost::beast::error_code Parse(ResponseParser& parser, size_t& used);
  // Maps an end of file to what Beast's reads report: the end of an EOF-delimited body, a
  // partial message, or end_of_stream when nothing of a response had arrived.
  static boost::beast::error_code OnEndOfFile(ResponseParser& parser);
  void StartDeadline(MonoTime deadline);
  // Ends the deadline of an operation; a timeout that fired during it becomes its error.
  boost::beast::error_code EndDeadline(boost::beast::error_code ec);

  Endpoint endpoint_;
  std::optional<boost::asio::ip::tcp::socket> plain_;
  std::optional<TlsStream> tls_;
  llmesh::http::IoDeadline deadline_;
  bool timed_out_ = false;
  boost::beast::flat_buffer buffer_;
  std::string head_;  // serialized request heads, reused
  bool reused_ = false;
  bool http2_ = false;
  MonoTime idle_since_{};
};

// Asio's awaitable coroutines throw operation_aborted from their next co_await once cancellation
// has been requested (throw_if_cancelled defaults to true). Code that resumes from one operation
// and starts another checks this first, so that a cancellation landing between two operations
// still ends in CANCELLED rather than an exception.
inline bool CancellationRequested(const boost::asio::cancellation_state& state) {
  return state.cancelled() != boost::asio::cancellation_type::none;
}

// The peer closed or reset the connection (EOF, RST, EPIPE, TLS truncation).
bool IsPeerGone(const boost::beast::error_code& ec);

// Converts a failed write or read into the layer's status contract: DEADLINE_EXCEEDED for a
// timeout, CANCELLED for cancellation, ABORTED for a lost connection, INTERNAL for unparseable
// HTTP. `activity` completes "... while <activity>" in the message.
absl::Status ExchangeError(const boost::beast::error_code& ec, const Endpoint& endpoint, std::string_view activity);

}  // namespace llmesh::upstream::internal
