// Per-worker pool of upstream connections (plain or TLS): keep-alive HTTP/1.1 connections and
// multiplexed HTTP/2 ones.
//
// Bottom of the request path: FailoverExecutor -> ProviderAdapter (encodes) -> UpstreamPool::Send
// -> Exchange. One pool per worker thread, used only on that worker's io_context: no locks, not
// thread-safe. Which protocol an endpoint speaks follows its Http2Mode: kOff and plain kAuto
// endpoints speak HTTP/1.1; TLS kAuto endpoints offer ALPN "h2" and "http/1.1", and an endpoint
// whose server picked "http/1.1" (or no ALPN) is remembered as HTTP/1.1 for the pool's life;
// kPriorKnowledge endpoints speak h2 (h2c on plain ones) without asking.
//
// HTTP/1.1: idle connections are kept per Endpoint (most recently used first), up to
// `max_idle_per_endpoint`, and closed after `idle_timeout`; expired ones are swept while the
// worker sends traffic and all of them on CloseIdle. One idle for more than
// `check_idle_after` is checked (a non-blocking peek) before reuse; a younger one, the common
// case under load, is not, and if its peer closed it anyway the exchange sends the request again
// on a fresh connection.
// HTTP/2: one connection per endpoint carries every request as a stream, up to the peer's
// SETTINGS_MAX_CONCURRENT_STREAMS; only when it is full (or going away) is another one opened.
// Requests that arrive while the endpoint's first connection is being opened wait for it rather
// than each opening their own. A connection closes itself (GOAWAY) after `idle_timeout` without
// streams, and after a GOAWAY from the upstream new requests go to a new connection.
// Host names are resolved off the worker (getaddrinfo on Asio's resolver thread) and cached for
// `dns_ttl`; IP literals skip DNS.
//
// Lifetime: the pool must outlive every Exchange it hands out and be destroyed on its worker (or
// after the worker's loop has stopped).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "proxy/upstream/connection.h"
#include "proxy/upstream/endpoint.h"
#include "proxy/upstream/exchange.h"
#include "proxy/upstream/http2_connection.h"

namespace llmesh::upstream {

struct PoolOptions {
  // Idle HTTP/1.1 connections kept per endpoint; more are closed when their exchange ends.
  size_t max_idle_per_endpoint = 64;
  // An idle HTTP/1.1 connection older than this is closed instead of reused; an HTTP/2
  // connection without streams for this long closes itself.
  std::chrono::seconds idle_timeout{60};
  // An idle HTTP/1.1 connection older than this is checked (a non-blocking peek) before reuse;
  // a younger one is taken as is (see above).
  Duration check_idle_after = std::chrono::milliseconds(100);
  // How long a DNS answer is reused.
  std::chrono::seconds dns_ttl{30};
};

class UpstreamPool final : private internal::Http2ConnectionOwner {
 public:
  explicit UpstreamPool(boost::asio::io_context& io, PoolOptions options = {});
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;
  // Closes idle connections and HTTP/2 connections. No Exchange of this pool may still exist.
  ~UpstreamPool() override;

  // Starts one exchange with `endpoint`, over HTTP/1.1 or HTTP/2 (see the file comment).
  // HTTP/1.1: takes an idle connection or opens one (DNS with the TTL cache, TCP connect,
  // TCP_NODELAY, for TLS the handshake with SNI, ALPN, chain and host name verification against
  // `endpoint.ca_file` or the system store), then writes `request`. A pooled connection found
  // closed by the peer (EOF or reset, before any response byte) is replaced by a fresh one once,
  // here or in Exchange::ReadHead, transparently; for that, on success the Exchange takes
  // `request` over (it is moved from, and released once ReadHead returns).
  // HTTP/2: opens a stream on a connection with room (opening or waiting for one as needed) and
  // submits `request` as HEADERS (+ DATA); its body is moved out, the rest of `request` is left.
  // The frames go out as the connection's writer gets to them: write errors and an upstream too
  // slow to take the body surface in Exchange::ReadHead.
  // Both set Host (Endpoint::HostHeader; :authority on h2) when missing, and Content-Length when
  // neither it nor chunked encoding is set and the request has a body or is a POST/PUT/PATCH.
  // `connect_deadline` bounds DNS + connect + TLS (and waiting for another request's connection
  // attempt), `write_deadline` writing the request. On failure `request` is left as it was after
  // the Host/Content-Length additions. Runs on the pool's io_context. Status codes:
  //   UNAVAILABLE        could not connect: DNS failure, refused/unreachable, TLS handshake or
  //                      certificate failure (message says which, e.g. "tls: certificate verify
  //                      failed for api.example.com: ..."); also when the connection attempt
  //                      another request was making to this endpoint (h2) failed so
  //   DEADLINE_EXCEEDED  connect_deadline or write_deadline passed
  //   ABORTED            connection lost while writing the request
  //   CANCELLED          the awaiting coroutine was cancelled
  boost::asio::awaitable<absl::StatusOr<std::unique_ptr<Exchange>>> Send(
      const Endpoint& endpoint, boost::beast::http::request<boost::beast::http::string_body>& request,
      MonoTime connect_deadline, MonoTime write_deadline);

  // Closes every idle HTTP/1.1 connection and sends GOAWAY on every HTTP/2 connection without
  // streams (on shutdown). Exchanges in flight are not affected.
  void CloseIdle();

  size_t idle_connections() const { return idle_count_; }
  // HTTP/2 connections that take new streams.
  size_t http2_connections() const;
  // Connections successfully opened (TCP connected and, for TLS, handshake done) so far.
  uint64_t connections_opened() const { return connections_opened_; }
  // Host name lookups sent to the resolver so far (cache misses).
  uint64_t dns_lookups() const { return dns_lookups_; }

 private:
  friend class Http1Exchange;

  struct DnsEntry {
    boost::asio::ip::tcp::resolver::results_type addresses;
    MonoTime expires;
  };

  // What the pool knows about an endpoint that may speak HTTP/2.
  struct Http2Endpoint {
    // Started connections that still take streams, oldest first.
    std::vector<internal::Http2Connection*> connections;
    // The server chose HTTP/1.1 by ALPN: this endpoint is served like an HTTP/1.1 one.
    bool http1 = false;
    // A request is opening a connection; others wait for it on these timers (cancelled to wake).
    bool opening = false;
    std::vector<boost::asio::steady_timer*> waiters;
    // How the last connection attempt ended, for the requests that waited for it: they share an
    // UNAVAILABLE result and make their own attempt after any other failure.
    absl::Status last_open;
  };

  boost::asio::awaitable<absl::StatusOr<std::unique_ptr<Exchange>>> SendHttp1(
      const Endpoint& endpoint, boost::beast::http::request<boost::beast::http::string_body>& request,
      MonoTime connect_deadline, MonoTime write_deadline, std::unique_ptr<internal::Connection> connection);
  boost::asio::awaitable<absl::StatusOr<std::unique_ptr<Exchange>>> SendHttp2(
      const Endpoint& endpoint, boost::beast::http::request<boost::beast::http::string_body>& request,
      MonoTime connect_deadline, MonoTime write_deadline);
  // Waits until the connection attempt under way for `state` ends (OK), `deadline` passes
  // (DEADLINE_EXCEEDED) or the caller is cancelled (CANCELLED).
  boost::asio::awaitable<absl::Status> WaitForOpen(Http2Endpoint& state, const Endpoint& endpoint,
                                                   MonoTime deadline);
  void OnHttp2ConnectionRetired(internal::Http2Connection& connection) override;

  // Resolves (or takes from the cache), connects and handshakes a new connection; ALPN offers
  // "h2" only when `offer_http2` (see Connection::Open).
  boost::asio::awaitable<absl::StatusOr<std::unique_ptr<internal::Connection>>> Open(const Endpoint& endpoint,
                                                                                     MonoTime deadline,
                                                                                     bool offer_http2 = false);
  boost::asio::awaitable<absl::StatusOr<boost::asio::ip::tcp::resolver::results_type>> Resolve(const Endpoint& endpoint,
                                                                                               MonoTime deadline);
  // The client TLS context for `ca_file`, created on first use.
  absl::StatusOr<boost::asio::ssl::context*> TlsContext(const std::string& ca_file);

  // Most recently used live idle connection to `endpoint`, or null.
  std::unique_ptr<internal::Connection> TakeIdle(const Endpoint& endpoint, MonoTime now);
  // Called by ~Http1Exchange with a connection that finished a response cleanly.
  void Release(std::unique_ptr<internal::Connection> connection);
  // Closes expired and peer-closed idle connections of every endpoint; runs at most every
  // idle_timeout / 2.
  void SweepIdle(MonoTime now);

  boost::asio::io_context& io_;
  const PoolOptions options_;
  // Per endpoint, oldest first; reuse takes from the back.
  absl::flat_hash_map<Endpoint, std::vector<std::unique_ptr<internal::Connection>>> idle_;
  size_t idle_count_ = 0;
  absl::flat_hash_map<std::pair<std::string, uint16_t>, DnsEntry> dns_cache_;
  absl::flat_hash_map<std::string, std::unique_ptr<boost::asio::ssl::context>> tls_contexts_;
  // Boxed: a request holds a reference across awaits while others insert.
  absl::flat_hash_map<Endpoint, std::unique_ptr<Http2Endpoint>> http2_;
  uint64_t connections_opened_ = 0;
  uint64_t dns_lookups_ = 0;
  MonoTime next_sweep_{};
};

}  // namespace llmesh::upstream
