#include "proxy/upstream/pool.h"

#include <algorithm>
#include <string>
#include <utility>

#include <openssl/ssl.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "proxy/upstream/http1_exchange.h"

namespace llmesh::upstream {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

MonoTime Now() { return std::chrono::steady_clock::now(); }

void PrepareRequest(const Endpoint& endpoint, internal::Request& request) {
  if (request.find(http::field::host) == request.end()) request.set(http::field::host, endpoint.HostHeader());
  if (!request.has_content_length() && !request.chunked()) {
    const http::verb method = request.method();
    if (!request.body().empty() || method == http::verb::post || method == http::verb::put ||
        method == http::verb::patch) {
      request.insert(http::field::content_length, std::to_string(request.body().size()));
    }
  }
}

// State shared by one DNS lookup and whatever may cancel it (its deadline timer, the awaiting
// coroutine's cancellation slot); either may fire after the lookup is over, so both hold it weakly.
struct Lookup {
  explicit Lookup(asio::io_context& io) : resolver(io) {}
  tcp::resolver resolver;
  bool timed_out = false;
};

}  // namespace

UpstreamPool::UpstreamPool(asio::io_context& io, PoolOptions options) : io_(io), options_(options) {}

UpstreamPool::~UpstreamPool() {
  for (auto& [endpoint, state] : http2_) {
    for (internal::Http2Connection* connection : state->connections) connection->Detach();
  }
  CloseIdle();
}

asio::awaitable<absl::StatusOr<std::unique_ptr<Exchange>>> UpstreamPool::Send(const Endpoint& endpoint,
                                                                              internal::Request& request,
                                                                              MonoTime connect_deadline,
                                                                              MonoTime write_deadline) {
  PrepareRequest(endpoint, request);
  const MonoTime now = Now();
  SweepIdle(now);
  if (endpoint.MaySpeakHttp2()) {
    co_return co_await SendHttp2(endpoint, request, connect_deadline, write_deadline);
  }
  co_return co_await SendHttp1(endpoint, request, connect_deadline, write_deadline, TakeIdle(endpoint, now));
}

asio::awaitable<absl::StatusOr<std::unique_ptr<Exchange>>> UpstreamPool::SendHttp1(
    const Endpoint& endpoint, internal::Request& request, MonoTime connect_deadline, MonoTime write_deadline,
    std::unique_ptr<internal::Connection> connection) {
  const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
  const MonoTime now = Now();
  // Round two only follows a pooled connection found dead while writing; it always uses a fresh
  // connection, so there is never a third.
  for (int round = 0; round < 2; ++round) {
    if (connection == nullptr) {
      absl::StatusOr<std::unique_ptr<internal::Connection>> opened = co_await Open(endpoint, connect_deadline);
      if (!opened.ok()) co_return opened.status();
      connection = *std::move(opened);
    }
    if (internal::CancellationRequested(cancellation)) co_return absl::CancelledError("upstream: cancelled");
    const beast::error_code ec = co_await connection->Write(request, write_deadline);
    if (!ec) {
      const bool reused = connection->reused();
      co_return std::unique_ptr<Exchange>(new Http1Exchange(*this, std::move(connection), std::move(request), reused,
                                                            std::max(connect_deadline - now, Duration::zero()),
                                                            std::max(write_deadline - now, Duration::zero())));
    }
    const bool stale = connection->reused() && internal::IsPeerGone(ec);
    connection->Close();
    connection.reset();
    if (!stale) co_return internal::ExchangeError(ec, endpoint, "writing the request");
  }
  co_return absl::AbortedError(absl::StrCat("upstream ", endpoint.Authority(), ": connection lost twice"));
}

asio::awaitable<absl::StatusOr<std::unique_ptr<Exchange>>> UpstreamPool::SendHttp2(const Endpoint& endpoint,
                                                                                   internal::Request& request,
                                                                                   MonoTime connect_deadline,
                                                                                   MonoTime write_deadline) {
  std::unique_ptr<Http2Endpoint>& slot = http2_[endpoint];
  if (slot == nullptr) slot = std::make_unique<Http2Endpoint>();
  Http2Endpoint& state = *slot;
  bool waited = false;
  // Each round uses a connection with room, waits for the attempt under way or makes one; a
  // fresh connection has room, so rounds beyond a few mean the upstream refuses any stream.
  for (int round = 0; round < 4; ++round) {
    if (state.http1) {
      co_return co_await SendHttp1(endpoint, request, connect_deadline, write_deadline, TakeIdle(endpoint, Now()));
    }
    for (internal::Http2Connection* connection : state.connections) {
      if (connection->Available()) co_return connection->StartStream(request);
    }
    if (state.opening) {
      if (absl::Status s = co_await WaitForOpen(state, endpoint, connect_deadline); !s.ok()) co_return s;
      waited = true;
      continue;
    }
    // The attempt this request waited for found the endpoint unreachable: so would this one. An
    // attempt that ran out of its own time or was cancelled says nothing about the endpoint, and
    // the waiter makes one itself.
    if (waited && state.last_open.code() == absl::StatusCode::kUnavailable) co_return state.last_open;

    state.opening = true;
    state.last_open = absl::CancelledError("upstream: connection attempt abandoned");
    // Runs however the attempt ends (even by an exception out of a cancelled await), so that no
    // waiter is left behind.
    absl::Cleanup wake_waiters = [&state] {
      state.opening = false;
      for (asio::steady_timer* waiter : state.waiters) waiter->cancel();
      state.waiters.clear();
    };
    absl::StatusOr<std::unique_ptr<internal::Connection>> opened =
        co_await Open(endpoint, connect_deadline, /*offer_http2=*/true);
    state.last_open = opened.status();
    std::move(wake_waiters).Invoke();
    if (!opened.ok()) co_return opened.status();
    if (!(*opened)->http2()) {
      state.http1 = true;
      co_return co_await SendHttp1(endpoint, request, connect_deadline, write_deadline, *std::move(opened));
    }
    internal::Http2ConnectionOwner* owner = this;
    internal::Http2Connection& connection = internal::Http2Connection::Start(
        io_, std::make_unique<internal::Http2Connection>(io_, *std::move(opened), options_.idle_timeout, owner));
    state.connections.push_back(&connection);
    // The connection this request opened serves it first, whatever round this is.
    if (connection.Available()) co_return connection.StartStream(request);
  }
  co_return absl::UnavailableError(
      absl::StrCat("upstream ", endpoint.Authority(), ": no HTTP/2 connection would take the request"));
}

asio::awaitable<absl::Status> UpstreamPool::WaitForOpen(Http2Endpoint& state, const Endpoint& endpoint,
                                                        MonoTime deadline) {
  const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
  if (internal::CancellationRequested(cancellation)) co_return absl::CancelledError("upstream: cancelled");
  asio::steady_timer timer(io_, deadline);
  state.waiters.push_back(&timer);
  auto [ec] = co_await timer.async_wait(kAwait);
  // Still listed unless the attempt's end woke it.
  std::erase(state.waiters, &timer);
  if (internal::CancellationRequested(cancellation)) co_return absl::CancelledError("upstream: cancelled");
  if (!ec) {
    co_return absl::DeadlineExceededError(
        absl::StrCat("connect: deadline passed waiting for the connection to ", endpoint.Authority()));
  }
  co_return absl::OkStatus();
}

void UpstreamPool::OnHttp2ConnectionRetired(internal::Http2Connection& connection) {
  auto it = http2_.find(connection.endpoint());
  if (it == http2_.end()) return;
  std::erase(it->second->connections, &connection);
}

size_t UpstreamPool::http2_connections() const {
  size_t count = 0;
  for (const auto& [endpoint, state] : http2_) count += state->connections.size();
  return count;
}

asio::awaitable<absl::StatusOr<std::unique_ptr<internal::Connection>>> UpstreamPool::Open(const Endpoint& endpoint,
                                                                                          MonoTime deadline,
                                                                                          bool offer_http2) {
  const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
  ssl::context* tls_context = nullptr;
  if (endpoint.tls) {
    absl::StatusOr<ssl::context*> context = TlsContext(endpoint.ca_file);
    if (!context.ok()) co_return context.status();
    tls_context = *context;
  }

  tcp::resolver::results_type addresses;
  bool from_cache = false;
  beast::error_code literal_ec;
  const asio::ip::address literal = asio::ip::make_address(endpoint.host, literal_ec);
  if (!literal_ec) {
    addresses = tcp::resolver::results_type::create(tcp::endpoint(literal, endpoint.port), endpoint.host,
                                                    std::to_string(endpoint.port));
  } else {
    auto cached = dns_cache_.find(std::make_pair(endpoint.host, endpoint.port));
    if (cached != dns_cache_.end() && Now() < cached->second.expires) {
      addresses = cached->second.addresses;
      from_cache = true;
    } else {
      absl::StatusOr<tcp::resolver::results_type> resolved = co_await Resolve(endpoint, deadline);
      if (!resolved.ok()) co_return resolved.status();
      addresses = *resolved;
      dns_cache_.insert_or_assign(std::make_pair(endpoint.host, endpoint.port),
                                  DnsEntry{addresses, Now() + options_.dns_ttl});
    }
  }

  if (internal::CancellationRequested(cancellation)) co_return absl::CancelledError("upstream: cancelled");
  auto connection = std::make_unique<internal::Connection>(io_, endpoint, tls_context);
  absl::Status opened = co_await connection->Open(addresses, deadline, offer_http2);
  if (!opened.ok()) {
    // The host may have moved: look it up again next time rather than retrying stale addresses.
    if (from_cache && opened.code() == absl::StatusCode::kUnavailable) {
      dns_cache_.erase(std::make_pair(endpoint.host, endpoint.port));
    }
    co_return opened;
  }
  ++connections_opened_;
  co_return connection;
}

asio::awaitable<absl::StatusOr<tcp::resolver::results_type>> UpstreamPool::Resolve(const Endpoint& endpoint,
                                                                                   MonoTime deadline) {
  ++dns_lookups_;
  // async_resolve has neither a deadline nor per-operation cancellation, so a timer and the
  // coroutine's cancellation slot cancel the lookup from outside.
  auto lookup = std::make_shared<Lookup>(io_);
  const std::weak_ptr<Lookup> weak = lookup;
  asio::steady_timer timer(io_, deadline);
  timer.async_wait([weak](const beast::error_code& ec) {
    if (ec) return;
    if (std::shared_ptr<Lookup> l = weak.lock()) {
      l->timed_out = true;
      l->resolver.cancel();
    }
  });
  // The awaitable machinery clears this slot when the lookup completes.
  asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
  if (asio::cancellation_slot slot = cancellation.slot(); slot.is_connected()) {
    slot.assign([weak](asio::cancellation_type) {
      if (std::shared_ptr<Lookup> l = weak.lock()) l->resolver.cancel();
    });
  }
  auto [ec, results] = co_await lookup->resolver.async_resolve(endpoint.host, std::to_string(endpoint.port), kAwait);
  timer.cancel();
  if (lookup->timed_out) {
    co_return absl::DeadlineExceededError(absl::StrCat("dns: deadline passed resolving ", endpoint.host));
  }
  if (ec == asio::error::operation_aborted) co_return absl::CancelledError("dns: cancelled");
  if (ec) co_return absl::UnavailableError(absl::StrCat("dns: cannot resolve ", endpoint.host, ": ", ec.message()));
  if (results.empty()) co_return absl::UnavailableError(absl::StrCat("dns: no addresses for ", endpoint.host));
  co_return results;
}

absl::StatusOr<ssl::context*> UpstreamPool::TlsContext(const std::string& ca_file) {
  if (auto it = tls_contexts_.find(ca_file); it != tls_contexts_.end()) return it->second.get();
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  beast::error_code ec;
  context->set_verify_mode(ssl::verify_peer, ec);
  // A one-time file read per pool and CA file, on first use.
  if (!ec) {
    if (ca_file.empty()) {
      context->set_default_verify_paths(ec);
    } else {
      context->load_verify_file(ca_file, ec);
    }
  }
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("tls: cannot load ", ca_file.empty() ? "the system CA store" : ca_file, ": ", ec.message()));
  }
  ssl::context* raw = context.get();
  tls_contexts_.emplace(ca_file, std::move(context));
  return raw;
}

std::unique_ptr<internal::Connection> UpstreamPool::TakeIdle(const Endpoint& endpoint, MonoTime now) {
  auto it = idle_.find(endpoint);
  if (it == idle_.end()) return nullptr;
  std::vector<std::unique_ptr<internal::Connection>>& idle = it->second;
  while (!idle.empty()) {
    std::unique_ptr<internal::Connection> connection = std::move(idle.back());
    idle.pop_back();
    --idle_count_;
    if (now - connection->idle_since() >= options_.idle_timeout) {
      // The newest one has expired, so all older ones have too.
      connection->Close();
      for (std::unique_ptr<internal::Connection>& older : idle) older->Close();
      idle_count_ -= idle.size();
      idle.clear();
      return nullptr;
    }
    // One back from a request moments ago is taken without asking the kernel (a MSG_PEEK per
    // request otherwise): peers close idle connections after seconds, and one closed in between
    // costs only a resend (Http1Exchange::ReadHead). Older ones are checked.
    if (now - connection->idle_since() < options_.check_idle_after || !connection->PeerClosed()) return connection;
    connection->Close();
  }
  return nullptr;
}

void UpstreamPool::Release(std::unique_ptr<internal::Connection> connection) {
  std::vector<std::unique_ptr<internal::Connection>>& idle = idle_[connection->endpoint()];
  if (idle.size() >= options_.max_idle_per_endpoint) {
    connection->Close();
    return;
  }
  connection->set_idle_since(Now());
  connection->set_reused();
  idle.push_back(std::move(connection));
  ++idle_count_;
}

void UpstreamPool::SweepIdle(MonoTime now) {
  if (now < next_sweep_ || idle_count_ == 0) return;
  next_sweep_ = now + std::max<Duration>(options_.idle_timeout / 2, std::chrono::seconds(1));
  for (auto& [endpoint, idle] : idle_) {
    const size_t before = idle.size();
    std::erase_if(idle, [&](std::unique_ptr<internal::Connection>& connection) {
      if (now - connection->idle_since() < options_.idle_timeout && !connection->PeerClosed()) return false;
      connection->Close();
      return true;
    });
    idle_count_ -= before - idle.size();
  }
}

void UpstreamPool::CloseIdle() {
  // CloseIfIdle retires the connection, which takes it off the list being walked.
  std::vector<internal::Http2Connection*> http2;
  for (auto& [endpoint, state] : http2_) {
    http2.insert(http2.end(), state->connections.begin(), state->connections.end());
  }
  for (internal::Http2Connection* connection : http2) connection->CloseIfIdle();
  for (auto& [endpoint, idle] : idle_) {
    for (std::unique_ptr<internal::Connection>& connection : idle) connection->Close();
  }
  idle_.clear();
  idle_count_ = 0;
}

}  // namespace llmesh::upstream
