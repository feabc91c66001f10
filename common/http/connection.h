// Internal to llmesh_http: one accepted connection, plain or TLS. It first picks the protocol:
// with TLS, ALPN ("h2" or HTTP/1.1) after a handshake bounded by client_timeout; without, the
// first bytes (the HTTP/2 client preface selects h2c, anything else is HTTP/1.1). HTTP/2 is
// served by an H2Connection it owns. For HTTP/1.1 it reads requests with a RequestParser and a
// reused flat_buffer, runs the worker's Handler for each, and is the ResponseWriter the handler
// writes through. Keep-alive loops until the client, a timeout, Drain or Stop ends it.
//
// Threading: everything runs on the accepting worker's thread. The serving coroutine owns the
// object; it is listed in its WorkerState so Stop and Drain can reach it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <tuple>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/intrusive/list_hook.hpp>

#include "common/http/io_deadline.h"
#include "common/http/request_parser.h"
#include "common/http/server.h"
#include "common/http2/session.h"

namespace llmesh::http::internal {

struct ServerState;
struct WorkerState;
class H2Connection;

class Connection final : public ResponseWriter,
                         public boost::intrusive::list_base_hook<
                             boost::intrusive::link_mode<boost::intrusive::auto_unlink>>,
                         public std::enable_shared_from_this<Connection> {
 public:
  // `tls` null serves plain HTTP/1.1 and h2c; otherwise TLS with that context, which must
  // outlive the connection.
  Connection(std::shared_ptr<ServerState> server, WorkerState& worker,
             asio::ip::tcp::socket socket, asio::ssl::context* tls);
  ~Connection() override;

  // Starts the serving coroutine on the worker, bound to this connection's cancellation
  // signal. The coroutine keeps the connection alive. Once; on the worker.
  static void Spawn(std::shared_ptr<Connection> connection);

  // Ends the wait for a next request if the connection is idle, or sends GOAWAY on HTTP/2
  // (used by Drain).
  void WakeIfIdle();
  // Cancels the running handler and closes the socket now (used by Stop).
  void ForceClose();

  asio::awaitable<absl::Status> Send(Response response) override;
  asio::awaitable<absl::Status> StartStream(boost::beast::http::response_header<> head,
                                            std::string_view first_bytes) override;
  asio::awaitable<absl::Status> Write(std::string_view data) override;
  asio::awaitable<absl::Status> FinishWith(std::string_view last) override;
  bool started() const override { return started_; }
  asio::awaitable<void> WaitUntilClientGone() override;
  void ResetConnection() override;

 private:
  // What the connection is waiting on; decides what a timeout does.
  enum class Phase { kIdle, kReadingRequest, kHandling, kWriting };
  class WriteScope;
  using Clock = std::chrono::steady_clock;

  enum class Protocol { kHttp1, kHttp2, kClosed };

  asio::awaitable<void> Run();
  // The TLS handshake and ALPN, or the look at the first bytes for the h2c preface.
  asio::awaitable<Protocol> ChooseProtocol();
  asio::awaitable<void> ServeHttp2();
  asio::ip::tcp::socket& socket() { return *tcp_; }
  // The I/O below goes to the TLS stream when there is one, else to the socket.
  asio::awaitable<std::tuple<boost::system::error_code, size_t>> ReadSome(asio::mutable_buffer buffer);
  asio::awaitable<boost::system::error_code> WriteBuffers(std::span<const asio::const_buffer> buffers);
  // Serves one request; false when the connection must close afterwards.
  asio::awaitable<bool> ServeOne();
  // Reads the next request into parser_; false (after answering a bad request) to close.
  asio::awaitable<bool> ReadRequest();
  // Feeds the already buffered bytes to parser_ without I/O; need_more is not an error.
  boost::system::error_code ParseBuffered();
  // Answers a request the server refused, then closes without resetting the client.
  asio::awaitable<void> SendReject(boost::beast::http::status status, std::string_view reason);
  asio::awaitable<void> LingeringClose();
  asio::awaitable<absl::Status> WriteRaw(std::string_view data);
  // Writes stream bytes under the write deadline; a failed write ends keep-alive (UNAVAILABLE).
  asio::awaitable<absl::Status> WriteStreamBytes(std::span<const asio::const_buffer> buffers);
  // Writes `response` whole: its head (serialized into head_) and body in one gather write.
  asio::awaitable<boost::system::error_code> WriteResponse(const Response& response);
  void BeginResponse(const Request& request);
  void OnRunEnded();

  void SetDeadline(std::chrono::milliseconds timeout) { deadline_.Set(Clock::now() + timeout); }
  void ClearDeadline() { deadline_.Clear(); }
  void OnTimeout();

  std::shared_ptr<ServerState> server_;
  WorkerState& worker_;
  const ServerLimits& limits_;
  std::optional<asio::ip::tcp::socket> plain_;
  std::optional<http2::TlsStream> tls_;
  asio::ip::tcp::socket* tcp_;  // the socket under either
  IoDeadline deadline_;
  std::unique_ptr<H2Connection> h2_;
  boost::beast::flat_buffer buffer_;
  std::string head_;  // serialized response heads, reused
  std::optional<RequestParser> parser_;
  asio::cancellation_signal cancel_;
  Phase phase_ = Phase::kIdle;
  bool timed_out_ = false;
  bool ended_ = false;

  // The current request's response.
  unsigned version_ = 11;
  bool request_keep_alive_ = false;
  bool keep_alive_ = false;
  bool started_ = false;
  bool streaming_ = false;
  bool chunked_ = false;
  bool complete_ = false;
};

}  // namespace llmesh::http::internal
