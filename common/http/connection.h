// Internal to llmesh_http: one accepted HTTP/1.1 connection. Reads requests with a reused
// parser and flat_buffer, runs the worker's Handler for each, and is the ResponseWriter the
// handler writes through. Keep-alive loops until the client, a timeout, Drain or Stop ends it.
//
// Threading: everything runs on the accepting worker's thread. The serving coroutine owns the
// object; it is listed in its WorkerState so Stop and Drain can reach it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/intrusive/list_hook.hpp>

#include "common/http/io_deadline.h"
#include "common/http/server.h"

namespace llmesh::http::internal {

struct ServerState;
struct WorkerState;

class Connection final : public ResponseWriter,
                         public boost::intrusive::list_base_hook<
                             boost::intrusive::link_mode<boost::intrusive::auto_unlink>>,
                         public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<ServerState> server, WorkerState& worker,
             asio::ip::tcp::socket socket);
  ~Connection() override;

  // Starts the serving coroutine on the worker, bound to this connection's cancellation
  // signal. The coroutine keeps the connection alive. Once; on the worker.
  static void Spawn(std::shared_ptr<Connection> connection);

  // Ends the wait for a next request if the connection is idle (used by Drain).
  void WakeIfIdle();
  // Cancels the running handler and closes the socket now (used by Stop).
  void ForceClose();

  asio::awaitable<absl::Status> Send(Response response) override;
  asio::awaitable<absl::Status> StartStream(boost::beast::http::response_header<> head) override;
  asio::awaitable<absl::Status> Write(std::string_view data) override;
  asio::awaitable<absl::Status> Finish() override;
  bool started() const override { return started_; }
  asio::awaitable<void> WaitUntilClientGone() override;
  void ResetConnection() override;

 private:
  // What the connection is waiting on; decides what a timeout does.
  enum class Phase { kIdle, kReadingRequest, kHandling, kWriting };
  class WriteScope;
  using Clock = std::chrono::steady_clock;

  asio::awaitable<void> Run();
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
  asio::ip::tcp::socket socket_;
  IoDeadline deadline_;
  boost::beast::flat_buffer buffer_;
  std::string head_;  // serialized response heads, reused
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
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
