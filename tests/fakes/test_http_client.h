// A small blocking HTTP client for integration tests talking to servers on 127.0.0.1
// (llmesh-proxy, its admin listener, llmesh-fake-provider): HTTP/1.1 over Boost.Beast, or
// HTTP/2 over nghttp2 (test_http2_client.h) — h2c with prior knowledge, or h2 over TLS chosen by
// ALPN when a CA file is given. The protocol is picked by ClientOptions; the calls and result
// types are the same for both, so a suite can run over either.
//
// Not part of the request path: this is the test's side of a connection. Every call blocks the
// calling thread, runs its own io_context, and has a deadline; a transport failure or timeout
// is reported in the result (`error`) rather than thrown, so a test can assert on it and print
// it. Requests get `Host: 127.0.0.1:<port>` (`:authority` on h2) and, when they carry a body,
// `Content-Type: application/json` unless the caller sets those headers; Content-Length is
// always computed. On h2 header names are sent lower-cased; HTTP/1.1 connection headers
// (Connection, Keep-Alive, Transfer-Encoding) must not be passed there.
//
// Threading: objects are not thread-safe; use one per thread. The free functions may be called
// from any thread at the same time.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace llmesh::testing {

class Http2Connection;

enum class HttpProtocol { kHttp1, kHttp2 };

// "Http1" or "Http2": the suffix of a parametrized test's name.
std::string ProtocolName(HttpProtocol protocol);
// How gtest prints a parameter: "Http1" / "Http2".
void PrintTo(HttpProtocol protocol, std::ostream* out);

// How a client reaches its server.
struct ClientOptions {
  HttpProtocol protocol = HttpProtocol::kHttp1;
  // Empty: plain TCP (for kHttp2: h2c with prior knowledge). Otherwise TLS, the server's
  // certificate verified for 127.0.0.1 against this CA file (PEM) and ALPN "h2" required.
  // TLS is supported with kHttp2 only; with kHttp1 every call fails with an error saying so.
  std::string ca_file;
};

// Extra request headers, in the order they are added; one with the same name as a default
// header replaces it.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  // HTTP status code; 0 when no complete response head arrived (see `error`).
  int status = 0;
  boost::beast::http::fields headers;
  std::string body;
  // Whether the server left the connection open for another request (h2: open and no GOAWAY).
  bool keep_alive = false;
  // Empty on success; otherwise what went wrong ("timeout", "connect: Connection refused",
  // "read: end of stream", h2: "stream reset: INTERNAL_ERROR", ...). `status`, `headers` and
  // `body` hold whatever arrived; a body cut short by a reset or a dead connection is an error.
  std::string error;

  // Value of header `name` (case-insensitive), or "" when absent.
  std::string Header(std::string_view name) const;
};

// One request on a new connection, closed afterwards.
HttpResponse Request(uint16_t port, boost::beast::http::verb method, std::string_view target,
                     std::string_view body = {}, const HttpHeaders& headers = {},
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));
// The same over the protocol `options` pick.
HttpResponse Request(const ClientOptions& options, uint16_t port, boost::beast::http::verb method,
                     std::string_view target, std::string_view body = {}, const HttpHeaders& headers = {},
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

// A connection for several requests: in sequence (HTTP/1.1 keep-alive, connection-reuse
// tests), or on h2 also at once, each StreamReader started on the connection being one stream.
class HttpConnection {
 public:
  explicit HttpConnection(ClientOptions options = {});
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Connects to 127.0.0.1:port with TCP_NODELAY. Unavailable on refusal or other socket
  // errors, DeadlineExceeded on timeout. Precondition: not connected.
  absl::Status Connect(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Sends one request and reads the whole response. HTTP/1.1: after a failure (non-empty
  // `error`) the connection is closed and further Sends fail until Connect is called again.
  // h2: the request is a new stream; a stream's failure (reset, timeout: the stream is then
  // cancelled) leaves the connection and its other streams as they are.
  HttpResponse Send(boost::beast::http::verb method, std::string_view target,
                    std::string_view body = {}, const HttpHeaders& headers = {},
                    std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Waits for the server to close the connection (EOF or reset). True if it did within
  // `timeout`; false if it stayed open (the connection is then closed by this call, because a
  // timed-out Beast stream is unusable) or if it sent unexpected bytes instead (HTTP/1.1).
  bool WaitForPeerClose(std::chrono::milliseconds timeout);

  bool is_open() const;
  // This side's port of the connection, 0 when not connected: tells connections apart.
  uint16_t local_port() const;
  const ClientOptions& options() const { return options_; }
  // The h2 connection; null for HTTP/1.1 or before Connect.
  Http2Connection* http2() { return h2_.get(); }

  void Close();

 private:
  ClientOptions options_;
  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  uint16_t port_ = 0;
  std::unique_ptr<Http2Connection> h2_;
};

// A streamed response read as it arrives: for SSE, time-to-first-token and
// "a broken stream must not end cleanly" tests.
class StreamReader {
 public:
  explicit StreamReader(ClientOptions options = {});
  // h2: cancels its stream (RST_STREAM) unless it ended.
  ~StreamReader();
  StreamReader(const StreamReader&) = delete;
  StreamReader& operator=(const StreamReader&) = delete;

  // Connects to 127.0.0.1:port, sends the request and reads the response head. OK when a head
  // arrived (any status); Unavailable / DeadlineExceeded / Internal otherwise (see error()).
  // Call Start once per StreamReader.
  absl::Status Start(uint16_t port, boost::beast::http::verb method, std::string_view target,
                     std::string_view body = {}, const HttpHeaders& headers = {},
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The same as one more stream of an open h2 `connection` (the reader's own options are not
  // used), which must outlive the reader; several readers on one connection read their
  // streams independently. FailedPrecondition on an HTTP/1.1 connection.
  absl::Status Start(HttpConnection& connection, boost::beast::http::verb method, std::string_view target,
                     std::string_view body = {}, const HttpHeaders& headers = {},
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Abandons the response: h2 resets the stream (RST_STREAM CANCEL; the connection and its
  // other streams carry on), HTTP/1.1 closes the connection. The reader is finished, with
  // error() "cancelled" unless the body had already ended.
  void Cancel();

  // Status and headers of the response head. Valid after Start returned OK.
  int status() const;
  const boost::beast::http::fields& headers() const;

  // Waits for the next body bytes (chunked encoding already removed) and returns them; one
  // call returns what one read delivered, which may be part of a chunk or several chunks.
  // Returns nullopt at the end of the body (ClosedCleanly() true), on a transport error or
  // truncated body (error() set), or when `timeout` elapses (error() == "timeout"; the
  // connection is closed then and the reader is finished).
  std::optional<std::string> NextChunk(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // When the bytes last returned by NextChunk arrived.
  std::chrono::steady_clock::time_point last_chunk_time() const { return last_chunk_time_; }

  // Reads the rest of the body until it ends, fails or `timeout` elapses overall; returns
  // everything read by this call.
  std::string ReadToEnd(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // True once the body ended as HTTP says it should: the terminating zero-length chunk for
  // chunked encoding, all Content-Length bytes otherwise, END_STREAM on h2. False after an EOF
  // or reset mid-body (h2: RST_STREAM or GOAWAY before END_STREAM), and while the body is still
  // being read.
  bool ClosedCleanly() const { return clean_end_; }

  // True once no more bytes can come: clean end, error or timeout.
  bool finished() const { return finished_; }

  // "" while healthy or after a clean end; otherwise the transport error or "timeout".
  const std::string& error() const { return error_; }

 private:
  absl::Status StartHttp2(Http2Connection& connection, boost::beast::http::verb method, std::string_view target,
                          std::string_view body, const HttpHeaders& headers, std::chrono::milliseconds timeout);
  std::optional<std::string> NextHttp2Chunk(std::chrono::milliseconds timeout);

  ClientOptions options_;
  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::buffer_body>> parser_;
  // h2: the connection the stream is on (owned by the reader when it opened it) and the stream.
  std::unique_ptr<Http2Connection> own_h2_;
  Http2Connection* h2_ = nullptr;
  int32_t h2_stream_ = 0;
  int h2_status_ = 0;
  boost::beast::http::fields h2_headers_;
  std::chrono::steady_clock::time_point last_chunk_time_{};
  bool clean_end_ = false;
  bool finished_ = false;
  std::string error_;
};

// Connects, writes `raw` verbatim, and returns every byte the server sent until it closed the
// connection or `timeout` elapsed (for malformed-request tests; send `Connection: close` when a
// well-formed exchange should end early). Returns "" when the connection could not be opened.
std::string RawExchange(uint16_t port, std::string_view raw,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10));

// One server-sent event.
struct SseEvent {
  std::string event;  // the `event:` field; "" when absent
  std::string data;   // `data:` lines joined with '\n'
};

// Splits an SSE body into events (LF or CRLF line ends; comment lines and events without
// data are dropped). A trailing event without its blank line is included.
std::vector<SseEvent> ParseSse(std::string_view body);

// The data payloads of ParseSse(body), e.g. {"{...chunk...}", ..., "[DONE]"}.
std::vector<std::string> SseEvents(std::string_view body);

// Parses JSON; on a syntax error adds a test failure naming the text and returns null.
boost::json::value ParseJson(std::string_view text);

}  // namespace llmesh::testing
