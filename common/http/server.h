// The shared HTTP server: accepts connections, reads requests (HTTP/1.1 with Beast, HTTP/2 with
// nghttp2) and hands each one to a Handler. It is the first hop of every listener in the system:
// the proxy's data listener, the proxy's admin listener, the fake provider and the control plane.
//
// Protocols: without TLS a connection speaks HTTP/1.1, or h2c when it opens with the HTTP/2
// client preface (prior knowledge; no Upgrade). With ServerOptions::tls every connection does a
// TLS handshake (bounded by client_timeout) and ALPN picks h2 or HTTP/1.1. Handlers see the same
// Request and ResponseWriter either way (an h2 request has version() 20); each h2 stream runs its
// own Handle coroutine, so one connection serves many requests at once.
//
// Threading: the server runs on an IoWorkers pool (one io_context per thread). Every worker
// owns its own SO_REUSEPORT listening socket, so the kernel spreads accepts across workers and a
// connection stays on the worker that accepted it for its whole life. All per-connection and
// per-worker state is touched only on that worker's thread; there is no lock on the request
// path. The HttpServer object itself may be called from any thread (Start from the owner before
// or after the workers run; Drain/Stop/active_connections from anywhere).
//
// Keep-alive, TCP_NODELAY on every accepted socket, `Expect: 100-continue`, chunked streaming
// (DATA frames on h2), flow control and client timeouts are handled here; routing, methods and
// error shapes are the Handler's.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>

#include "absl/status/status.h"
#include "common/http/io_workers.h"
#include "common/http/server_tls.h"

namespace llmesh {
namespace asio = boost::asio;
namespace beast = boost::beast;
}  // namespace llmesh

namespace llmesh::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

struct ServerLimits {
  // A request body larger than this is rejected with 413 (before it is read when the
  // Content-Length announces it).
  uint64_t max_body_bytes = 8 << 20;
  // A request head (request line and fields) larger than this is rejected with 431.
  uint32_t max_header_bytes = 64 << 10;
  // Bounds the whole reading of a request once its first byte arrived (then 408), the idle
  // wait for the next request on a keep-alive connection (then a silent close), and every
  // single response write (then the connection is closed). On HTTP/2: the TLS handshake, an
  // idle connection without streams (then GOAWAY), and every write of a stream (then
  // RST_STREAM, or the connection is closed when the connection's write itself is stuck).
  std::chrono::milliseconds client_timeout{60000};
  // HTTP/2: streams (requests) one connection may have open at once; more are refused with
  // RST_STREAM REFUSED_STREAM.
  uint32_t max_concurrent_streams = 100;
};

// The response side of one request. Implemented by the server; a handler gets one per request.
// Used only on the connection's worker executor; not thread-safe. Valid until Handle returns.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;

  // Sends a complete response: sets Content-Length and the HTTP version, and keeps the
  // connection alive if the request allowed it, the response does not carry
  // `Connection: close` and the server is not draining. On HTTP/2 the connection-specific
  // fields (Connection, Keep-Alive, Transfer-Encoding, Upgrade) are dropped and completion means
  // the whole body was written. At most once per request, and not after StartStream. Returns FAILED_PRECONDITION if a response was already started,
  // UNAVAILABLE if the client went away or the write timed out.
  virtual asio::awaitable<absl::Status> Send(Response response) = 0;

  // Sends the head of a streamed response (HTTP/1.1: Transfer-Encoding: chunked; for an
  // HTTP/1.0 client the body is sent raw and the connection closes after Finish) and flushes
  // it. A non-empty `first_bytes` is the body's first piece, as if by Write, sent in the same
  // write as the head (on HTTP/2: HEADERS and DATA in one flush), so a first token costs the
  // client one wake-up. Same preconditions and codes as Send; `first_bytes` as Write's `data`.
  virtual asio::awaitable<absl::Status> StartStream(boost::beast::http::response_header<> head,
                                                    std::string_view first_bytes) = 0;

  // Writes body bytes of a started stream and flushes them at once (one chunk; on HTTP/2 DATA
  // frames, waiting for the client's flow-control window when it is shut). An empty `data`
  // writes nothing. `data` must stay valid until the call completes. FAILED_PRECONDITION without a started stream; UNAVAILABLE if the
  // client went away or the write timed out.
  virtual asio::awaitable<absl::Status> Write(std::string_view data) = 0;

  // Writes `last` (may be empty) and ends a started stream cleanly, in one write: the last
  // chunk goes with the terminating one (on HTTP/2, the last DATA frame carries END_STREAM).
  // `last` must stay valid until the call completes. FAILED_PRECONDITION without a started
  // stream; UNAVAILABLE if the client went away.
  virtual asio::awaitable<absl::Status> FinishWith(std::string_view last) = 0;
  // FinishWith with nothing more to write.
  asio::awaitable<absl::Status> Finish() { return FinishWith({}); }

  // True once Send or StartStream has put bytes on the wire.
  virtual bool started() const = 0;

  // Completes when the client closes the connection (on HTTP/2: resets the stream), the
  // connection fails, the server stops it, or the awaiting coroutine is cancelled. Bytes the client sends meanwhile (a pipelined
  // request) are kept for the next request; more than one request's worth ends the wait too.
  // Must not run concurrently with itself. Used to notice an abandoned request.
  virtual asio::awaitable<void> WaitUntilClientGone() = 0;

  // Closes the connection at once with a TCP reset (SO_LINGER 0), whatever was sent; on HTTP/2
  // resets just this stream (RST_STREAM INTERNAL_ERROR). For aborting a stream the hard way and
  // for fault injection; the handler should return next.
  virtual void ResetConnection() = 0;
};

// Serves requests. One instance per worker (see HttpServer), so an implementation may keep
// per-worker caches without locks. Must outlive every connection of the server using it.
class Handler {
 public:
  virtual ~Handler() = default;

  // Handles one request; must call writer.Send or StartStream..Finish before returning (if it
  // returns without a complete response the connection is closed — that is how a handler ends
  // a stream abruptly). Runs on the connection's worker executor. The request lives until
  // Handle returns and may be modified. On Stop (or a Drain deadline) the coroutine gets a
  // terminal cancellation: the operation it awaits completes with operation_aborted, and
  // starting another asynchronous operation afterwards throws (Asio's throw_if_cancelled);
  // the server catches that. Any exception escaping Handle closes the connection, after a 500
  // from Reject if nothing was sent yet.
  virtual asio::awaitable<void> Handle(Request& request, ResponseWriter& writer) = 0;

  // Builds the response for a request the server rejected before Handle (400 bad request,
  // 413 body too large, 431 headers too large, 408 timeout, 500 handler failure) so the
  // caller's API shape is used. `target` is the request target when the head was read, else
  // empty. The server adds `Connection: close`. Runs on the worker.
  virtual Response Reject(boost::beast::http::status status, std::string_view reason,
                          std::string_view target) = 0;
};

struct ServerOptions {
  // "host:port"; see ParseHostPort. Port 0 picks a free port.
  std::string listen = "127.0.0.1:0";
  ServerLimits limits;
  // The `listener` field of the "listening" log line: "proxy", "admin", "fake", ...
  std::string name;
  // Serve TLS only (h2 and HTTP/1.1 by ALPN) with this certificate and key, read at Start.
  std::optional<ServerTlsFiles> tls;
};

namespace internal {
struct ServerState;
}  // namespace internal

class HttpServer {
 public:
  // Serves on every context of `workers`. `handler_for_worker(i)` is called once per worker
  // during Start and must return a handler that outlives the server's connections.
  HttpServer(IoWorkers& workers, ServerOptions options,
             std::function<Handler&(size_t worker)> handler_for_worker);
  // Serves on a single io_context run by the caller (e.g. the admin listener on the main
  // thread). `context` and `handler` must outlive the server's connections.
  HttpServer(asio::io_context& context, ServerOptions options, Handler& handler);
  // Stops the server (see Stop). Coroutines still suspended on a context keep the server's
  // internal state alive until they finish or their io_context is destroyed.
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds one listening socket per worker (SO_REUSEPORT), prints the "listening" log line
  // and schedules the accept loops; connections are served once the contexts run. Once.
  // INVALID_ARGUMENT for a bad listen address or unusable TLS files (blocking reads of them),
  // UNAVAILABLE when a bind or listen fails, FAILED_PRECONDITION when called twice.
  absl::Status Start();

  // The bound port; valid after a successful Start.
  uint16_t port() const;
  // The bound address, "127.0.0.1:port" or "[::1]:port"; valid after a successful Start.
  std::string address() const;

  // Stops accepting; idle keep-alive connections close at once, busy ones after their current
  // request (their response carries `Connection: close`); HTTP/2 connections get GOAWAY and
  // close once their open streams are done. Calls on_drained exactly once, from
  // a worker thread, when no connection remains or when the deadline passes (then the
  // remaining connections are closed as by Stop). Any thread; needs the workers running.
  void Drain(std::chrono::milliseconds deadline, std::function<void()> on_drained);

  // Closes the listening sockets and every connection now; running handlers are cancelled.
  // Any thread; asynchronous (the workers do the closing). Idempotent.
  void Stop();

  // Blocks until every accept loop and connection coroutine has finished (after Stop or a
  // completed Drain) or the timeout passes; returns false on timeout. Call from a thread that
  // is not one of the server's workers, while the workers still run. After it returns true,
  // handlers may be destroyed and the workers stopped.
  bool WaitUntilStopped(std::chrono::milliseconds timeout);

  // Connections currently open. Any thread.
  size_t active_connections() const;
  // Connections accepted since Start. Any thread.
  uint64_t accepted_connections() const;

 private:
  std::shared_ptr<internal::ServerState> state_;
};

}  // namespace llmesh::http
