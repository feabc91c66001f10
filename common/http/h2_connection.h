// Internal to llmesh_http: the HTTP/2 side of an accepted connection (h2c after the client
// preface, or h2 chosen by ALPN). An http2::Session in the server role whose every request stream
// becomes a Request handed to the worker's Handler in a coroutine of its own, with an H2Stream as
// its ResponseWriter. The same limits as HTTP/1.1 apply (max_body_bytes → 413, max_header_bytes
// → 431, answered through the Handler's Reject); nghttp2 refuses streams beyond
// max_concurrent_streams. Drain sends GOAWAY and lets open streams finish; ForceClose cancels
// every handler and closes.
//
// Threading: everything runs on the accepting worker's thread. The owning Connection awaits
// Serve, which returns only once the session has ended and every stream's handler has returned,
// so a stream never outlives its H2Connection.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>
#include <boost/intrusive/list.hpp>

#include "common/http/io_deadline.h"
#include "common/http/server.h"
#include "common/http2/session.h"

namespace llmesh::http::internal {

struct ServerState;
struct WorkerState;
class H2Connection;

// One request stream and its response side.
class H2Stream final
    : public ResponseWriter,
      public boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
 public:
  explicit H2Stream(H2Connection& connection);

  // Readies a fresh or recycled stream for stream `id`.
  void Begin(int32_t id);

  asio::awaitable<absl::Status> Send(Response response) override;
  asio::awaitable<absl::Status> StartStream(boost::beast::http::response_header<> head,
                                            std::string_view first_bytes) override;
  asio::awaitable<absl::Status> Write(std::string_view data) override;
  asio::awaitable<absl::Status> FinishWith(std::string_view last) override;
  bool started() const override { return started_; }
  asio::awaitable<void> WaitUntilClientGone() override;
  void ResetConnection() override;

  // Answers with the Handler's Reject response for `status`.
  asio::awaitable<void> SendReject(boost::beast::http::status status, std::string_view reason);
  // After the handler: resets a stream left without a complete response, then waits until no
  // byte of this stream is still referenced by a write in flight.
  asio::awaitable<void> Settle();

  // Events from the connection.
  void OnClosed(uint32_t error_code);
  void OnBodyWritten() { WakeWriter(); }
  void OnSessionEnded();

  int32_t id() const { return id_; }
  Request& request() { return request_; }
  http2::OutboundBody& body() { return body_; }

  // Request reading state, kept by the connection.
  size_t header_bytes = 0;
  boost::beast::http::status reject{};  // unknown (0) unless refused before the handler
  std::string_view reject_reason;
  bool dispatched = false;      // its coroutine was spawned
  bool request_ended = false;   // the client's END_STREAM arrived
  std::chrono::steady_clock::time_point began;  // its HEADERS began: bounds reading it
  bool coroutine_done = false;  // its coroutine has finished
  bool closed = false;          // nghttp2 closed the stream (or the session ended)
  asio::cancellation_signal cancel;

 private:
  using Clock = std::chrono::steady_clock;

  // Builds the HEADERS of `head` with `:status` first and the connection-specific fields (and
  // content-length unless `content_length` is given) left out, and submits them.
  absl::Status SubmitHead(const boost::beast::http::response_header<>& head, bool with_body,
                          std::string_view content_length);
  // Waits until everything handed to body_ is framed and written; bounded by client_timeout.
  asio::awaitable<absl::Status> AwaitBody();
  // Waits until no write in flight references this stream's bytes.
  asio::awaitable<void> AwaitInFlight(Clock::time_point deadline);
  asio::awaitable<void> WaitForWake(Clock::time_point deadline);
  void WakeWriter();
  bool InFlight() const;

  H2Connection& connection_;
  int32_t id_ = 0;
  Request request_;
  Response response_;  // what Send keeps alive while its body is written
  http2::OutboundBody body_;
  std::array<char, 24> content_length_;
  asio::steady_timer write_wake_;
  asio::steady_timer gone_wake_;
  bool write_waiting_ = false;
  bool gone_waiting_ = false;
  uint32_t close_code_ = 0;
  bool started_ = false;
  bool streaming_ = false;
  bool complete_ = false;
};

// Holds the transport so that it is built before the Session base that refers to it.
struct H2TransportHolder {
  explicit H2TransportHolder(asio::ip::tcp::socket& socket)
      : held_transport(std::in_place_type<http2::TcpTransport>, socket) {}
  explicit H2TransportHolder(http2::TlsStream& stream)
      : held_transport(std::in_place_type<http2::TlsTransport>, stream) {}
  http2::Transport& get() {
    return std::visit([](auto& each) -> http2::Transport& { return each; }, held_transport);
  }
  std::variant<http2::TcpTransport, http2::TlsTransport> held_transport;
};

class H2Connection final : private H2TransportHolder, public http2::Session {
 public:
  // `stream` (a tcp::socket or a TlsStream after the handshake) must outlive the H2Connection.
  template <class Stream>
  H2Connection(ServerState& server, WorkerState& worker, Stream& stream)
      : H2TransportHolder(stream),
        http2::Session(Role::kServer, H2TransportHolder::get(), SessionOptionsFor(server)),
        server_(server),
        worker_(worker),
        idle_(stream.get_executor(), [this] { OnIdleTimeout(); }),
        streams_done_(stream.get_executor()) {}
  ~H2Connection() override;

  // Serves the connection; `already_read` are the bytes read while choosing the protocol (the
  // client preface). Returns once the session has ended and every handler has returned. Once.
  asio::awaitable<void> Serve(std::string_view already_read);
  // Sends GOAWAY: open streams finish, new ones are refused, then the connection closes.
  void Drain();
  // Cancels every handler and closes the connection now.
  void ForceClose();

  WorkerState& worker() { return worker_; }
  const ServerLimits& limits() const;
  http2::HeaderList& header_list() { return header_list_; }

 protected:
  int OnBeginHeaders(const nghttp2_frame& frame) override;
  int OnHeader(const nghttp2_frame& frame, std::string_view name, std::string_view value) override;
  int OnFrame(const nghttp2_frame& frame) override;
  int OnData(int32_t stream_id, std::string_view data) override;
  int OnStreamClose(int32_t stream_id, uint32_t error_code) override;
  void OnBodyWritten(http2::OutboundBody& body) override;

 private:
  using StreamList =
      boost::intrusive::list<H2Stream, boost::intrusive::constant_time_size<false>>;

  static http2::SessionOptions SessionOptionsFor(const ServerState& server);

  H2Stream* StreamOf(int32_t stream_id) const;
  void Refuse(H2Stream& stream, boost::beast::http::status status, std::string_view reason);
  void Dispatch(H2Stream& stream);
  asio::awaitable<void> RunStream(H2Stream& stream);
  void OnStreamCoroutineEnded(H2Stream& stream);
  void Release(H2Stream& stream);
  void UpdateIdleDeadline();
  void OnIdleTimeout();

  ServerState& server_;
  WorkerState& worker_;
  IoDeadline idle_;
  bool idle_goaway_sent_ = false;
  StreamList live_;
  std::vector<std::unique_ptr<H2Stream>> spare_;
  http2::HeaderList header_list_;
  size_t open_streams_ = 0;
  size_t running_ = 0;  // stream coroutines not yet finished
  asio::steady_timer streams_done_;
  bool serve_waiting_ = false;
};

}  // namespace llmesh::http::internal
