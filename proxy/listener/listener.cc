#include "proxy/listener/listener.h"

#include <boost/asio/post.hpp>

namespace llmesh::listener {
namespace {

http::ServerOptions ServerOptionsFrom(const ListenerOptions& options) {
  http::ServerOptions server;
  server.listen = options.listen;
  server.tls = options.tls;
  server.name = "proxy";
  server.limits.max_body_bytes = options.limits.max_request_body_bytes;
  server.limits.max_header_bytes = options.limits.max_request_header_bytes;
  server.limits.client_timeout = options.limits.client_timeout;
  return server;
}

}  // namespace

ProxyListener::ProxyListener(ListenerOptions options, log::AccessLog* access_log, const Clock& clock)
    : workers_(std::max<size_t>(1, options.workers)),
      server_(workers_, ServerOptionsFrom(options),
              [this](size_t worker) -> http::Handler& { return *per_worker_[worker].handler; }) {
  per_worker_.resize(workers_.size());
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (options.record_telemetry) per_worker_[i].telemetry = std::make_unique<xds::TelemetryAccumulator>();
    per_worker_[i].pool = std::make_unique<upstream::UpstreamPool>(workers_.context(i), upstream::PoolOptions{});
    log::AccessLog::Writer* writer = access_log != nullptr ? &access_log->writer(i) : nullptr;
    per_worker_[i].handler = std::make_unique<codec::ApiHandler>(*per_worker_[i].pool, writer, clock,
                                                                 options.global_weights,
                                                                 per_worker_[i].telemetry.get());
  }
}

ProxyListener::~ProxyListener() { Stop(); }

absl::Status ProxyListener::Start() {
  if (absl::Status s = server_.Start(); !s.ok()) return s;
  workers_.Start();
  return absl::OkStatus();
}

void ProxyListener::Publish(std::shared_ptr<const config::ConfigSnapshot> snapshot) {
  for (size_t i = 0; i < per_worker_.size(); ++i) {
    boost::asio::post(workers_.context(i), [handler = per_worker_[i].handler.get(), snapshot] {
      handler->SetSnapshot(snapshot);
    });
  }
}

void ProxyListener::Drain(std::chrono::milliseconds deadline, std::function<void()> on_drained) {
  server_.Drain(deadline, std::move(on_drained));
}

void ProxyListener::Stop() {
  if (stopped_) return;
  stopped_ = true;
  server_.Stop();
  // Connections finish on their workers before the loops stop: nothing queued on a loop may
  // outlive the server state it points to.
  server_.WaitUntilStopped(std::chrono::seconds(5));
  workers_.Stop();
  workers_.Join();
  // The worker loops have ended, so their pools can be closed from here.
  for (Worker& worker : per_worker_) worker.pool->CloseIdle();
}

}  // namespace llmesh::listener
