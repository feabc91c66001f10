// Per-worker pool of keep-alive HTTP/1.1 connections to upstream endpoints (plain or TLS).
//
// Bottom of the request path: FailoverExecutor -> ProviderAdapter (encodes) -> UpstreamPool::Send
// -> Exchange. One pool per worker thread, used only on that worker's io_context: no locks, not
// thread-safe. Idle connections are kept per Endpoint (most recently used first), up to
// `max_idle_per_endpoint`, and closed after `idle_timeout`; expired ones are swept while the
// worker sends traffic and all of them on CloseIdle. Host names are resolved off the worker
// (getaddrinfo on Asio's resolver thread) and cached for `dns_ttl`; IP literals skip DNS.
//
// Lifetime: the pool must outlive every Exchange it hands out and be destroyed on its worker.
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

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "proxy/upstream/connection.h"
#include "proxy/upstream/endpoint.h"
#include "proxy/upstream/exchange.h"

namespace llmesh::upstream {

struct PoolOptions {
  // Idle connections kept per endpoint; more are closed when their exchange ends.
  size_t max_idle_per_endpoint = 64;
  // An idle connection older than this is closed instead of reused.
  std::chrono::seconds idle_timeout{60};
  // How long a DNS answer is reused.
  std::chrono::seconds dns_ttl{30};
};

class UpstreamPool {
 public:
  explicit UpstreamPool(boost::asio::io_context& io, PoolOptions options = {});
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;
  // Closes idle connections. No Exchange of this pool may still exist.
  ~UpstreamPool();

  // Starts one exchange: takes an idle connection to `endpoint` or opens one (DNS with the TTL
  // cache, TCP connect, TCP_NODELAY, for TLS the handshake with SNI, ALPN "http/1.1", chain and
  // host name verification against `endpoint.ca_file` or the system store), then writes
  // `request`. Sets Host (Endpoint::HostHeader) when missing, and Content-Length when neither it
  // nor chunked encoding is set and the request has a body or is a POST/PUT/PATCH.
  // `connect_deadline` bounds DNS + connect + TLS, `write_deadline` writing the request. A pooled
  // connection found closed by the peer (EOF or reset, before any response byte) is replaced
  // by a fresh one once, here or in Exchange::ReadHead, transparently; for that, on success the
  // Exchange takes `request` over (it is moved from, and released once ReadHead returns). On
  // failure `request` is left as it was after the Host/Content-Length additions.
  // Runs on the pool's io_context. Status codes:
  //   UNAVAILABLE        could not connect: DNS failure, refused/unreachable, TLS handshake or
  //                      certificate failure (message says which, e.g. "tls: certificate verify
  //                      failed for api.example.com: ...")
  //   DEADLINE_EXCEEDED  connect_deadline or write_deadline passed
  //   ABORTED            connection lost while writing the request
  //   CANCELLED          the awaiting coroutine was cancelled
  boost::asio::awaitable<absl::StatusOr<std::unique_ptr<Exchange>>> Send(
      const Endpoint& endpoint, boost::beast::http::request<boost::beast::http::string_body>& request,
      MonoTime connect_deadline, MonoTime write_deadline);

  // Closes every idle connection (on shutdown). Exchanges in flight are not affected.
  void CloseIdle();

  size_t idle_connections() const { return idle_count_; }
  // Connections successfully opened (TCP connected and, for TLS, handshake done) so far.
  uint64_t connections_opened() const { return connections_opened_; }
  // Host name lookups sent to the resolver so far (cache misses).
  uint64_t dns_lookups() const { return dns_lookups_; }

 private:
  friend class Exchange;

  struct DnsEntry {
    boost::asio::ip::tcp::resolver::results_type addresses;
    MonoTime expires;
  };

  // Resolves (or takes from the cache), connects and handshakes a new connection.
  boost::asio::awaitable<absl::StatusOr<std::unique_ptr<internal::Connection>>> Open(const Endpoint& endpoint,
                                                                                     MonoTime deadline);
  boost::asio::awaitable<absl::StatusOr<boost::asio::ip::tcp::resolver::results_type>> Resolve(const Endpoint& endpoint,
                                                                                               MonoTime deadline);
  // The client TLS context for `ca_file`, created on first use.
  absl::StatusOr<boost::asio::ssl::context*> TlsContext(const std::string& ca_file);

  // Most recently used live idle connection to `endpoint`, or null.
  std::unique_ptr<internal::Connection> TakeIdle(const Endpoint& endpoint, MonoTime now);
  // Called by ~Exchange with a connection that finished a response cleanly.
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
  uint64_t connections_opened_ = 0;
  uint64_t dns_lookups_ = 0;
  MonoTime next_sweep_{};
};

}  // namespace llmesh::upstream
