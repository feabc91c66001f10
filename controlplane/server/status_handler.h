// The HTTP listener of llmesh-control (default 127.0.0.1:15014):
//   GET /healthz   200 while the process runs
//   GET /readyz    200 once the store is open and the gRPC server is serving; 503 before and
//                  while shutting down
//   GET /metrics   Prometheus text format 0.0.4 of the process registry
//
// Threading: Handle runs on the HTTP server's one worker; SetReady may be called from any
// thread.
#pragma once

#include <atomic>
#include <string_view>

#include "common/http/server.h"
#include "common/metrics/registry.h"

namespace llmesh::control {

class StatusHandler final : public http::Handler {
 public:
  // `registry` must outlive the handler.
  explicit StatusHandler(const metrics::Registry& registry) : registry_(registry) {}

  void SetReady(bool ready) { ready_.store(ready, std::memory_order_release); }

  boost::asio::awaitable<void> Handle(http::Request& request, http::ResponseWriter& writer) override;
  http::Response Reject(boost::beast::http::status status, std::string_view reason,
                        std::string_view target) override;

 private:
  const metrics::Registry& registry_;
  std::atomic<bool> ready_{false};
};

}  // namespace llmesh::control
