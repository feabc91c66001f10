// The codec layer: turns HTTP requests on the client-facing listener into routed, executed
// proxy requests, and results back into responses in the client's API shape.
//
// Request path: Listener (accept) -> Codec (this layer: HTTP/1.1 via common/http; parse the
// client's API; answer) -> Router -> FailoverExecutor -> ProviderAdapter -> UpstreamPool.
//
// ApiHandler serves the OpenAI-compatible endpoints — POST /v1/chat/completions, POST
// /v1/embeddings, GET /v1/models — and the Anthropic-compatible POST /v1/messages (each also
// without the /v1 prefix). Answers and errors take the shape of the API the client spoke,
// whichever provider answered. One ApiHandler per worker;
// every method runs on that worker's io_context; no locks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "absl/random/random.h"
#include "common/clock.h"
#include "common/http/server.h"
#include "common/log/access_log.h"
#include "proxy/codec/error_response.h"
#include "proxy/config/config_snapshot.h"
#include "proxy/failover/failover.h"
#include "proxy/router/router.h"
#include "proxy/upstream/upstream.h"

namespace llmesh::codec {

class ApiHandler final : public http::Handler {
 public:
  // `pool` and `access_log` (may be null: logging off) belong to the same worker and outlive
  // the handler. `weights` (the control plane's global weights; null: static weights only) and
  // `telemetry` (this worker's accumulator; null: nothing recorded) outlive it too.
  ApiHandler(upstream::UpstreamPool& pool, log::AccessLog::Writer* access_log, const Clock& clock,
             const xds::GlobalWeights* weights = nullptr, xds::TelemetryAccumulator* telemetry = nullptr);

  // Installs the snapshot new requests use; requests in flight keep theirs. Worker thread only.
  void SetSnapshot(std::shared_ptr<const config::ConfigSnapshot> snapshot) { snapshot_ = std::move(snapshot); }
  const std::shared_ptr<const config::ConfigSnapshot>& snapshot() const { return snapshot_; }

  boost::asio::awaitable<void> Handle(http::Request& request, http::ResponseWriter& writer) override;
  http::Response Reject(boost::beast::http::status status, std::string_view reason,
                        std::string_view target) override;

 private:
  struct Exchange;
  // A request ready for the executor.
  struct Prepared {
    provider::ClientRequest request;
    failover::Priority priority;
    router::TargetPlan plan;
  };
  // Parses, checks and routes the request, or says why it cannot be served.
  std::variant<Prepared, ErrorReply> Prepare(Exchange& exchange, provider::Operation operation);
  boost::asio::awaitable<void> Proxy(Exchange& exchange, provider::Operation operation);
  boost::asio::awaitable<void> SendError(Exchange& exchange, const ErrorReply& error);
  void Finish(Exchange& exchange);
  http::Response ModelList(const http::Request& request) const;
  std::string NewRequestId();

  std::shared_ptr<const config::ConfigSnapshot> snapshot_;
  log::AccessLog::Writer* access_log_;
  const Clock& clock_;
  router::Router router_;
  failover::FailoverExecutor executor_;
  absl::BitGen rng_;
};

}  // namespace llmesh::codec
