// ProxyListener: the client-facing listener and its worker threads.
//
// Request path: Listener (this: N workers, each with its own io_context, SO_REUSEPORT socket,
// upstream pool, ApiHandler and, with a control plane, telemetry accumulator) -> Codec ->
// Router -> FailoverExecutor -> ... A new config snapshot is posted to every worker (RCU);
// workers never share mutable state except through the atomics of SharedState and the
// control plane's GlobalWeights. Public methods are called from the main thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/http/server.h"
#include "common/log/access_log.h"
#include "proxy/codec/codec.h"
#include "proxy/config/config_snapshot.h"
#include "proxy/upstream/upstream.h"
#include "proxy/xds/global_weights.h"
#include "proxy/xds/telemetry_accumulator.h"

namespace llmesh::listener {

struct ListenerOptions {
  std::string listen = "127.0.0.1:4000";
  // Set: the listener speaks TLS only (h2 and HTTP/1.1 by ALPN); unset: HTTP/1.1 and h2c.
  std::optional<http::ServerTlsFiles> tls;
  size_t workers = 1;
  config::Limits limits;
  // The control plane's global weights for every worker's router; null: static weights only.
  // Must outlive the listener.
  const xds::GlobalWeights* global_weights = nullptr;
  // Whether every worker records its attempts into a TelemetryAccumulator (for the telemetry
  // reporter, which collects them on the workers' io_contexts).
  bool record_telemetry = false;
};

class ProxyListener {
 public:
  // `access_log` may be null (logging off); it must outlive the listener.
  ProxyListener(ListenerOptions options, log::AccessLog* access_log, const Clock& clock);
  ~ProxyListener();

  // Binds every worker's socket and starts the worker threads. INVALID_ARGUMENT for a bad
  // address, UNAVAILABLE when the address cannot be bound.
  absl::Status Start();
  // Hands `snapshot` to every worker; requests already running keep the one they started with.
  void Publish(std::shared_ptr<const config::ConfigSnapshot> snapshot);
  uint16_t port() const { return server_.port(); }
  std::string address() const { return server_.address(); }
  size_t active_connections() const { return server_.active_connections(); }
  size_t workers() const { return per_worker_.size(); }
  // Worker `i`'s io_context and its telemetry accumulator (null unless record_telemetry), for
  // the telemetry reporter: the accumulator may only be touched on that io_context.
  boost::asio::io_context& worker_context(size_t i) { return workers_.context(i); }
  xds::TelemetryAccumulator* telemetry(size_t i) { return per_worker_[i].telemetry.get(); }
  // Stops accepting and lets in-flight requests finish; `on_drained` runs (on any thread) when
  // none is left or `deadline` passed.
  void Drain(std::chrono::milliseconds deadline, std::function<void()> on_drained);
  // Stops the workers and joins their threads.
  void Stop();

 private:
  struct Worker {
    std::unique_ptr<xds::TelemetryAccumulator> telemetry;  // before the handler that records into it
    std::unique_ptr<upstream::UpstreamPool> pool;
    std::unique_ptr<codec::ApiHandler> handler;
  };

  http::IoWorkers workers_;
  std::vector<Worker> per_worker_;
  http::HttpServer server_;
  bool stopped_ = false;
};

}  // namespace llmesh::listener
