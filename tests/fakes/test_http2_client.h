// The HTTP/2 side of the integration tests' client (test_http_client.h): one blocking client
// connection on nghttp2's client API, over plain TCP (h2c with prior knowledge) or TLS (ALPN
// "h2", the server's certificate checked against a CA file for 127.0.0.1).
//
// Not part of the request path: this is the test's side of a connection. Several streams may be
// open at once; whichever call is waiting pumps the connection, and bytes for other streams are
// kept for them. A call never waits past its deadline; a transport failure fails every open
// stream with its reason. Tests normally reach this through HttpConnection, StreamReader and
// Request with ClientOptions{.protocol = HttpProtocol::kHttp2}.
//
// Threading: not thread-safe; one connection per thread. Each connection runs its own
// io_context on the calling thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct nghttp2_session;

namespace llmesh::testing {

class Http2Connection {
 public:
  using Clock = std::chrono::steady_clock;
  using Headers = std::vector<std::pair<std::string, std::string>>;

  // What has arrived on one stream.
  struct Stream {
    int status = 0;  // :status of the final response head; 0 until it arrived
    boost::beast::http::fields headers;
    bool head_done = false;
    // Body bytes received and not yet taken by TakeData.
    std::string data;
    Clock::time_point last_data_time{};
    // END_STREAM arrived: the body is complete. A stream that closed without it was reset.
    bool end_stream = false;
    // No more frames will come for the stream (END_STREAM, RST_STREAM, GOAWAY or a dead
    // connection).
    bool closed = false;
    // "" while healthy or after END_STREAM; otherwise why the stream ended early, e.g.
    // "stream reset: INTERNAL_ERROR", "connection: read: end of stream".
    std::string error;

    // The request body still to be sent from `request_offset` (owned here so that nghttp2's
    // data source can read it after Submit returns).
    std::string request_body;
    size_t request_offset = 0;
  };

  Http2Connection();
  ~Http2Connection();
  Http2Connection(const Http2Connection&) = delete;
  Http2Connection& operator=(const Http2Connection&) = delete;

  // Connects to 127.0.0.1:port with TCP_NODELAY; with a non-empty `ca_file` also does the TLS
  // handshake (ALPN "h2" required, certificate verified for 127.0.0.1); then sends the client
  // preface and SETTINGS. Unavailable on refusal, handshake or ALPN failure, DeadlineExceeded on
  // timeout. Precondition: called once.
  absl::Status Connect(uint16_t port, const std::string& ca_file, std::chrono::milliseconds timeout);

  // Opens a stream for one request and sends as much of it as the peer's windows allow before
  // `deadline`: :authority is 127.0.0.1:<port>, `content-type: application/json` is added when
  // there is a body, `content-length` always; `headers` (names lower-cased here) replace
  // defaults of the same name. Returns the stream id; Unavailable when the connection is dead
  // or the server sent GOAWAY.
  absl::StatusOr<int32_t> Submit(boost::beast::http::verb method, std::string_view target, std::string_view body,
                                 const Headers& headers, Clock::time_point deadline);

  // Runs the connection until `stream_id` has its response head, or has closed. OK then (look
  // at the stream's state); DeadlineExceeded when the deadline passed first. Precondition: the
  // stream was submitted on this connection and not yet forgotten.
  absl::Status WaitForHead(int32_t stream_id, Clock::time_point deadline);
  // Runs the connection until `stream_id` has body bytes not yet taken, its END_STREAM, or has
  // closed.
  absl::Status WaitForData(int32_t stream_id, Clock::time_point deadline);
  // Runs the connection until `stream_id` has its END_STREAM or has closed.
  absl::Status WaitForEnd(int32_t stream_id, Clock::time_point deadline);
  // Runs the connection until the server closes it (EOF or reset). OK then; DeadlineExceeded
  // when it stayed open.
  absl::Status WaitForConnectionEnd(Clock::time_point deadline);

  // The state of a submitted stream. Reference valid until Forget(stream_id).
  Stream& stream(int32_t stream_id);
  // Sends RST_STREAM(CANCEL) for the stream unless it already closed, and flushes it before
  // `deadline`. The stream is closed with error "cancelled".
  void Cancel(int32_t stream_id, Clock::time_point deadline);
  // Drops the stream's state (it must be closed, or it is cancelled first).
  void Forget(int32_t stream_id);

  // False once the connection failed or closed.
  bool is_open() const;
  // Whether the server sent GOAWAY (no new streams are accepted then).
  bool goaway_received() const { return goaway_received_; }
  uint16_t local_port() const;
  // Closes the socket; every open stream fails with "connection closed by the client".
  void Close();

 private:
  struct Callbacks;

  // Writes every frame nghttp2 has queued. False when the connection failed or the deadline
  // passed (the connection is then closed: a half-written frame cannot be resumed).
  absl::Status Flush(Clock::time_point deadline);
  // Pumps reads and writes until `done()` holds or the connection has ended.
  template <typename Done>
  absl::Status Pump(Clock::time_point deadline, Done done);
  // Runs the io_context until `done()` or the deadline; true when done.
  template <typename Done>
  bool RunUntil(Clock::time_point deadline, Done done);
  void StartRead();
  void Fail(std::string reason);
  uint16_t authority_port_ = 0;

  boost::asio::io_context ioc_;
  boost::asio::ssl::context tls_context_;
  boost::asio::ip::tcp::socket socket_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, Stream> streams_;

  std::array<uint8_t, 16384> read_buffer_{};
  bool read_pending_ = false;
  bool read_done_ = false;
  size_t read_size_ = 0;
  boost::system::error_code read_error_;
  std::string write_buffer_;

  bool open_ = false;
  bool goaway_received_ = false;
  std::string error_;
};

}  // namespace llmesh::testing
