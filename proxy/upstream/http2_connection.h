// One multiplexed HTTP/2 connection to an upstream endpoint: the client side of the nghttp2 core
// (common/http2) carrying many concurrent request streams.
//
// Internal to the upstream layer: UpstreamPool opens the TLS (ALPN "h2") or plain (h2c, prior
// knowledge) connection, hands it to Http2Connection::Start, and then opens streams on it with
// StartStream while it has room (the peer's SETTINGS_MAX_CONCURRENT_STREAMS); each stream is read
// through an Http2Exchange. The connection owns itself once started: it lives until its session
// has ended and no Http2Exchange refers to it any more, and tells the pool (while attached) when
// it stops taking streams for good. It closes itself with GOAWAY after `idle_timeout` without
// streams. Threading: the pool's io_context only; no locks.
//
// Per stream, the received DATA is appended to one buffer of the stream (the only copy: the
// core's views live only during its hook) and handed to the reader in one piece; its bytes go
// back to the stream's flow-control window (Consume) when the reader takes them, so an upstream
// can never be more than the stream window ahead of a slow reader, and a slow reader holds up
// only its own stream (the core refills the connection window on receipt). Stream objects and their buffers are
// reused from a free list, so a warm connection allocates nothing per request but the beast
// header fields of each response.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/http2/session.h"
#include "proxy/upstream/connection.h"
#include "proxy/upstream/endpoint.h"
#include "proxy/upstream/exchange.h"

namespace llmesh::upstream::internal {

class Http2Connection;

// What the pool learns from its HTTP/2 connections.
class Http2ConnectionOwner {
 public:
  virtual ~Http2ConnectionOwner() = default;
  // `connection` takes no new stream any more (GOAWAY either way, or its session ended); called
  // once, on the pool's io_context, from inside the connection (do not destroy it from here).
  virtual void OnHttp2ConnectionRetired(Http2Connection& connection) = 0;
};

// The state of one request stream, shared by the connection's hooks (writers) and the
// Http2Exchange (reader). Reused for later streams once both are done with it.
struct Http2Stream {
  explicit Http2Stream(boost::asio::io_context& io) : wake(io) {}
  // Back to the state of a fresh stream; keeps the buffers' capacity.
  void Reset();
  // Wakes the reader if it waits.
  void Wake() {
    if (reader_waiting) wake.cancel();
  }

  int32_t id = 0;
  // Streams this connection opened before this one (0 for its first).
  uint64_t ordinal = 0;
  http2::OutboundBody body;
  std::string request_body;  // what body.pending points into
  boost::beast::http::response_header<> head;
  size_t head_bytes = 0;
  std::string received;  // DATA not yet taken by the reader
  std::string taken;     // the piece the reader holds (valid until its next call)
  // The reader waits on it (expiring at its deadline); cancelled to wake it when the stream's
  // state changes.
  boost::asio::steady_timer wake;
  bool reader_waiting = false;
  bool head_done = false;   // the final (non-1xx) response head is complete
  bool end_stream = false;  // the upstream sent END_STREAM: `received` is the rest of the body
  bool closed = false;      // nghttp2 closed the stream
  bool abandoned = false;   // the Http2Exchange is gone
  absl::Status error;       // why the stream failed before the response ended
  size_t active_index = 0;  // position in Http2Connection::active_
};

// The socket under a session, in a base class so that it is built before the Session that
// borrows its Transport and destroyed after it.
struct Http2Link {
  explicit Http2Link(std::unique_ptr<Connection> opened);
  std::unique_ptr<Connection> link_connection;
  std::unique_ptr<http2::Transport> link_transport;
};

class Http2Connection final : private Http2Link, public http2::Session {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  // `connection` has been opened and speaks HTTP/2 (connection->http2()).
  Http2Connection(boost::asio::io_context& io, std::unique_ptr<Connection> connection, Duration idle_timeout,
                  Http2ConnectionOwner* owner);
  ~Http2Connection() override;

  // Runs the session in a coroutine of its own on `io`, which owns the connection from now on;
  // returns the connection for the pool's bookkeeping (valid until it retires and the last
  // exchange on it is gone).
  static Http2Connection& Start(boost::asio::io_context& io, std::unique_ptr<Http2Connection> connection);

  const Endpoint& endpoint() const { return link_connection->endpoint(); }
  // True while StartStream can open a stream: the session runs, no GOAWAY either way, and the
  // peer's concurrency limit leaves room.
  bool Available() const;

  // Opens a request stream: HEADERS from `request` (:method, :scheme, :authority from Host or the
  // endpoint, :path, then the other fields lowercased without the connection-specific ones) and
  // the body, which is moved out of `request`. Returns the Exchange that reads the response.
  // UNAVAILABLE when the session cannot take the stream (see Available).
  absl::StatusOr<std::unique_ptr<Exchange>> StartStream(Request& request);

  // The pool is going away: forget it and close the session now.
  void Detach();
  // Closes the session (with GOAWAY) if it carries no stream; for the pool's CloseIdle.
  void CloseIfIdle();

  // For Http2Exchange.
  void Take(Http2Stream& stream);  // hands the received bytes to the reader, crediting the windows
  void Abandon(Http2Stream& stream);  // the exchange is gone: reset the stream if still open
  uint64_t streams_started() const { return streams_started_; }

 protected:
  int OnBeginHeaders(const nghttp2_frame& frame) override;
  int OnHeader(const nghttp2_frame& frame, std::string_view name, std::string_view value) override;
  int OnFrame(const nghttp2_frame& frame) override;
  int OnData(int32_t stream_id, std::string_view data) override;
  int OnStreamClose(int32_t stream_id, uint32_t error_code) override;
  void OnGoAway(int32_t last_stream_id, uint32_t error_code) override;
  void OnBodyWritten(http2::OutboundBody& body) override;

 private:
  static boost::asio::awaitable<void> Serve(Http2Connection& self);
  // Sends GOAWAY once the connection has carried no stream for idle_timeout; returns only when
  // cancelled (the session ended).
  boost::asio::awaitable<void> WatchIdle();

  Http2Stream* StreamOf(int32_t stream_id) const;
  // Fails the stream (first error wins) and wakes its reader.
  void Fail(Http2Stream& stream, absl::Status status);
  // Returns the stream to the free list once nobody refers to it or its request bytes.
  void MaybeRecycle(Http2Stream& stream);
  void Retire();
  // Called by ~Http2Exchange through Abandon; ends the Serve wait when it was the last.
  void ExchangeGone();

  boost::asio::io_context& io_;
  Duration idle_timeout_;
  Http2ConnectionOwner* owner_;
  // Wakes Serve when the last exchange is gone after the session ended.
  boost::asio::steady_timer exchanges_done_;
  http2::HeaderList headers_;
  std::vector<std::unique_ptr<Http2Stream>> streams_;  // every stream object this connection made
  std::vector<Http2Stream*> free_;
  std::vector<Http2Stream*> active_;  // opened and not yet recycled
  size_t exchanges_ = 0;
  size_t open_streams_ = 0;  // opened and not yet closed by nghttp2
  uint64_t streams_started_ = 0;
  MonoTime idle_since_;
  bool retired_ = false;
  bool going_away_ = false;  // GOAWAY sent or received
  bool ended_ = false;       // the session's Run has returned
};

}  // namespace llmesh::upstream::internal
