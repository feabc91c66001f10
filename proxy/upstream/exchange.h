// One request/response exchange with an upstream, whatever the protocol underneath: HTTP/1.1 on a
// pooled keep-alive connection (Http1Exchange) or one HTTP/2 stream of a multiplexed connection
// (Http2Exchange).
//
// Bottom of the request path: the failover layer gets an Exchange from UpstreamPool::Send, reads
// the response head, then the body (streamed with ReadSome or whole with ReadAll), and drops the
// Exchange. Dropping it before the response is complete abandons the request: an HTTP/1.1
// connection is closed, an HTTP/2 stream is reset (RST_STREAM CANCEL) and its connection carries
// on. Owned by one coroutine on the pool's worker; not thread-safe; never destroyed while one of
// its methods is being awaited. An Exchange must not outlive its pool.
//
// Status contract of every method (the failover layer decides on the code alone):
//   ABORTED            connection lost mid-exchange (reset, EOF before the response completed),
//                      or the upstream reset the HTTP/2 stream
//   DEADLINE_EXCEEDED  the deadline passed
//   INTERNAL           the upstream's bytes are not valid HTTP
//   RESOURCE_EXHAUSTED ReadAll: the body is larger than allowed
//   UNAVAILABLE        ReadHead only: the request was never processed and may be sent again —
//                      the pooled HTTP/1.1 connection was dead and reconnecting failed, or the
//                      HTTP/2 upstream refused the stream (REFUSED_STREAM) or announced with
//                      GOAWAY that it will not process it
//   CANCELLED          the awaiting coroutine was cancelled (the exchange is then abandoned)
//   FAILED_PRECONDITION called out of order or after an earlier failure
// After any error the exchange is finished.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"

namespace llmesh::upstream {

class Exchange {
 public:
  Exchange() = default;
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;
  virtual ~Exchange() = default;

  // Reads the response head; 1xx interim responses are skipped. `deadline` is an absolute steady
  // time. Call once.
  virtual boost::asio::awaitable<absl::Status> ReadHead(MonoTime deadline) = 0;

  // The response's status code. Precondition: ReadHead succeeded.
  virtual unsigned status() const = 0;
  // The response head (status and fields; on HTTP/2 the pseudo-header :status becomes the
  // status and the version reads 20). Costs more than status(): an HTTP/1.1 exchange builds the
  // fields on the first call. Precondition: ReadHead succeeded. Valid for the Exchange's lifetime.
  virtual const boost::beast::http::response_header<>& head() const = 0;

  // The next piece of the body, framing removed, as it arrives; an empty view means the body is
  // complete (and stays empty on further calls). The view is valid until the next call on this
  // Exchange or its destruction; taking it is what lets the upstream send more (HTTP/2 flow
  // control credits a piece's bytes when ReadSome hands it out).
  // Precondition: ReadHead succeeded.
  virtual boost::asio::awaitable<absl::StatusOr<std::string_view>> ReadSome(MonoTime deadline) = 0;

  // The rest of the body in one string, read with ReadSome. RESOURCE_EXHAUSTED (and the exchange
  // is abandoned) as soon as it is known to exceed `max_bytes`. Precondition: ReadHead succeeded.
  boost::asio::awaitable<absl::StatusOr<std::string>> ReadAll(MonoTime deadline, size_t max_bytes);

  // True once the whole response has been read.
  virtual bool complete() const = 0;
  // True when the exchange runs on a connection that served an earlier exchange.
  virtual bool reused_connection() const = 0;

 protected:
  // The body bytes still to come as the response head announces them (Content-Length), when it
  // does and no piece has been read yet; nullopt otherwise.
  virtual std::optional<uint64_t> AnnouncedBodyBytes() const = 0;
  // Ends the exchange after a failure found above it (ReadAll's limit, cancellation).
  virtual void Abandon() = 0;
  // Adds `piece`, the view ReadSome has just returned, to `body`.
  virtual void AppendPiece(std::string_view piece, std::string& body) { body.append(piece); }
};

}  // namespace llmesh::upstream
