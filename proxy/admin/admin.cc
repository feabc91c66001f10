#include "proxy/admin/admin.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <boost/beast/http/field.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "absl/strings/str_cat.h"
#include "common/config/dump.h"
#include "proxy/router/effective_weights.h"

namespace llmesh::admin {
namespace {

namespace beast_http = boost::beast::http;
using std::chrono::duration;

http::Response Text(const http::Request& request, beast_http::status status, std::string_view content_type,
                    std::string body) {
  http::Response response{status, request.version()};
  response.set(beast_http::field::content_type, content_type);
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

std::string_view StateName(failover::TargetState state) {
  switch (state) {
    case failover::TargetState::kHealthy: return "healthy";
    case failover::TargetState::kCoolingDown: return "cooling_down";
    case failover::TargetState::kEjected: return "ejected";
  }
  return "unknown";
}

int64_t Millis(Duration d) { return std::chrono::ceil<std::chrono::milliseconds>(d).count(); }

}  // namespace

boost::asio::awaitable<void> AdminHandler::Handle(http::Request& request, http::ResponseWriter& writer) {
  std::string_view path = request.target();
  path = path.substr(0, path.find('?'));
  http::Response response;
  if (request.method() != beast_http::verb::get && request.method() != beast_http::verb::head) {
    response = Text(request, beast_http::status::method_not_allowed, "text/plain", "method not allowed\n");
    response.set(beast_http::field::allow, "GET, HEAD");
  } else if (path == "/healthz") {
    response = Text(request, beast_http::status::ok, "text/plain", "ok\n");
  } else if (path == "/readyz") {
    const bool ready = ready_.load(std::memory_order_acquire) && snapshot_ != nullptr;
    response = Text(request, ready ? beast_http::status::ok : beast_http::status::service_unavailable,
                    "text/plain", ready ? "ready\n" : "not ready\n");
  } else if (path == "/metrics") {
    response = Metrics(request);
  } else if (path == "/config_dump") {
    response = ConfigDump(request);
  } else if (path == "/providers") {
    response = Providers(request);
  } else {
    response = Text(request, beast_http::status::not_found, "text/plain",
                    "not found; try /healthz /readyz /metrics /config_dump /providers\n");
  }
  (void)co_await writer.Send(std::move(response));
}

http::Response AdminHandler::Metrics(const http::Request& request) {
  const MonoTime now = clock_.Now();
  for (const config::SharedState::HealthEntry& entry : shared_.HealthEntries()) {
    if (entry.series != nullptr) entry.series->state->Set(static_cast<double>(entry.health->State(now)));
  }
  return Text(request, beast_http::status::ok, "text/plain; version=0.0.4; charset=utf-8", registry_.Render());
}

http::Response AdminHandler::Providers(const http::Request& request) {
  const MonoTime now = clock_.Now();
  boost::json::array providers;
  for (const config::SharedState::HealthEntry& entry : shared_.HealthEntries()) {
    const failover::TargetHealth& health = *entry.health;
    boost::json::object item;
    item["provider"] = entry.provider;
    item["model"] = entry.model;
    item["state"] = StateName(health.State(now));
    item["cooldown_remaining_ms"] = Millis(health.CooldownRemaining(now));
    item["ejection_remaining_ms"] = Millis(health.EjectionRemaining(now));
    item["ejections_total"] = health.outlier_detector().ejections_total();
    item["consecutive_failures"] = health.outlier_detector().consecutive_failures();
    item["failure_percentage"] = health.outlier_detector().FailurePercentage(now);
    item["successes_total"] = health.successes_total();
    item["failures_total"] = health.health_failures_total();
    item["skipped_total"] = health.non_health_failures_total();
    if (entry.series != nullptr) {
      // Estimated from the attempt-duration histogram buckets; null until there is an attempt.
      for (auto [key, q] : {std::pair{"attempt_latency_p50_ms", 0.50}, std::pair{"attempt_latency_p99_ms", 0.99}}) {
        const double seconds = entry.series->attempt_duration->Quantile(q);
        item[key] = std::isnan(seconds) ? boost::json::value(nullptr)
                                        : boost::json::value(std::llround(seconds * 1e6) / 1000.0);
      }
    }
    providers.push_back(std::move(item));
  }
  return Text(request, beast_http::status::ok, "application/json",
              boost::json::serialize(boost::json::object{{"providers", std::move(providers)}}));
}

http::Response AdminHandler::ConfigDump(const http::Request& request) const {
  if (snapshot_ == nullptr) {
    return Text(request, beast_http::status::service_unavailable, "text/plain", "no active config\n");
  }
  return Text(request, beast_http::status::ok, "application/json",
              absl::StrCat("{\"version\":\"", snapshot_->version(), "\",\"config\":",
                           config::ConfigDumpJson(snapshot_->source()),
                           ",\"weights\":", boost::json::serialize(EffectiveWeights()), "}"));
}

boost::json::object AdminHandler::EffectiveWeights() const {
  const MonoTime now = clock_.Now();
  const std::shared_ptr<const xds::AppliedWeights> applied =
      global_weights_ != nullptr ? global_weights_->Current() : nullptr;
  boost::json::object out;
  if (applied != nullptr) {
    out["assignment_version"] = applied->version();
    out["fresh"] = applied->Fresh(now);
    out["expires_in_ms"] = std::max<int64_t>(0, Millis(applied->expires_at() - now));
  } else {
    out["assignment_version"] = nullptr;
    out["fresh"] = false;
  }
  boost::json::array routes;
  for (const config::RouteSpec& route : snapshot_->routes()) {
    std::vector<router::EffectiveWeight> weights(route.targets.size());
    router::ResolveWeights(route, applied.get(), now, absl::MakeSpan(weights));
    boost::json::array targets;
    for (size_t i = 0; i < route.targets.size(); ++i) {
      const config::TargetSpec& target = route.targets[i];
      targets.push_back(boost::json::object{{"provider", target.provider->name},
                                            {"model", target.model->name},
                                            {"priority", target.priority},
                                            {"static_weight", target.weight},
                                            {"weight", weights[i].weight},
                                            {"source", router::WeightSourceName(weights[i].source)},
                                            {"drained", weights[i].drained()}});
    }
    routes.push_back(boost::json::object{{"route", route.name}, {"targets", std::move(targets)}});
  }
  out["routes"] = std::move(routes);
  return out;
}

http::Response AdminHandler::Reject(beast_http::status status, std::string_view reason, std::string_view /*target*/) {
  http::Response response{status, 11};
  response.set(beast_http::field::content_type, "text/plain");
  response.body() = std::string(reason) + "\n";
  response.keep_alive(false);
  response.prepare_payload();
  return response;
}

}  // namespace llmesh::admin
