// The admin listener of llmesh-proxy (default 127.0.0.1:9901):
//   GET /healthz      200 while the process runs
//   GET /readyz       200 once a config is active and the proxy listener is bound; 503 while
//                     starting or draining
//   GET /metrics      Prometheus text format 0.0.4
//   GET /config_dump  the active config as JSON, secrets redacted, with its version, and the
//                     weight every route target is planned with now: the control plane's
//                     (source "global") while its assignment is fresh, else the static one
//   GET /providers    health of every provider+model: state, cooldown, ejections, error rate,
//                     attempt latency p50/p99
// It runs on the main thread's io_context (the same thread that reloads configs), so it reads
// the active snapshot without locks; provider health comes from SharedState's atomics.
#pragma once

#include <atomic>
#include <memory>

#include <boost/json/object.hpp>

#include "common/clock.h"
#include "common/http/server.h"
#include "common/metrics/registry.h"
#include "proxy/config/config_snapshot.h"
#include "proxy/xds/global_weights.h"

namespace llmesh::admin {

class AdminHandler final : public http::Handler {
 public:
  // `weights` (the control plane's global weights, may be null) must outlive the handler.
  AdminHandler(config::SharedState& shared, metrics::Registry& registry, const Clock& clock,
               const xds::GlobalWeights* weights = nullptr)
      : shared_(shared), registry_(registry), clock_(clock), global_weights_(weights) {}

  // Main thread only.
  void SetSnapshot(std::shared_ptr<const config::ConfigSnapshot> snapshot) { snapshot_ = std::move(snapshot); }
  void SetReady(bool ready) { ready_.store(ready, std::memory_order_release); }

  boost::asio::awaitable<void> Handle(http::Request& request, http::ResponseWriter& writer) override;
  http::Response Reject(boost::beast::http::status status, std::string_view reason,
                        std::string_view target) override;

 private:
  http::Response Metrics(const http::Request& request);
  http::Response Providers(const http::Request& request);
  http::Response ConfigDump(const http::Request& request) const;
  // The "weights" member of /config_dump (router::ResolveWeights for every route target).
  boost::json::object EffectiveWeights() const;

  config::SharedState& shared_;
  metrics::Registry& registry_;
  const Clock& clock_;
  const xds::GlobalWeights* global_weights_;
  std::shared_ptr<const config::ConfigSnapshot> snapshot_;
  std::atomic<bool> ready_{false};
};

}  // namespace llmesh::admin
