#include "common/metrics/llmesh_metrics.h"

#include <vector>

namespace llmesh::metrics {
namespace {

template <size_t N>
std::vector<double> Buckets(const std::array<double, N>& bounds) {
  return std::vector<double>(bounds.begin(), bounds.end());
}

}  // namespace

std::string_view CodeClass(int http_status) {
  switch (http_status / 100) {
    case 1: return "1xx";
    case 2: return "2xx";
    case 3: return "3xx";
    case 4: return "4xx";
    case 5: return "5xx";
    default: return "other";
  }
}

ProxyMetrics::ProxyMetrics(Registry& registry)
    : requests(registry.AddCounter(
          "llmesh_requests_total",
          "Requests answered by the proxy, by route, the provider and model that produced the "
          "final response (empty when none was attempted) and the HTTP status class sent to "
          "the client.",
          {"route", "provider", "model", "code_class"})),
      attempts(registry.AddCounter(
          "llmesh_attempts_total",
          "Upstream attempts, by provider, upstream model and outcome (success or the failure "
          "kind).",
          {"provider", "model", "outcome"})),
      failovers(registry.AddCounter(
          "llmesh_failovers_total",
          "Times a request moved on to its next target, by route, the provider that failed "
          "and the failure kind that caused the move.",
          {"route", "from_provider", "reason"})),
      request_duration(registry.AddHistogram(
          "llmesh_request_duration_seconds",
          "Time from receiving a request to finishing its response, all attempts included, "
          "in seconds.",
          {"route", "provider", "model"}, Buckets(kLatencyBuckets))),
      time_to_first_token(registry.AddHistogram(
          "llmesh_time_to_first_token_seconds",
          "Time from receiving a request to sending the first content byte downstream, in "
          "seconds.",
          {"route", "provider", "model"}, Buckets(kLatencyBuckets))),
      attempt_duration(registry.AddHistogram(
          "llmesh_attempt_duration_seconds",
          "Duration of one upstream attempt, from sending the request to its end or failure, "
          "in seconds.",
          {"provider", "model"}, Buckets(kLatencyBuckets))),
      tokens(registry.AddCounter(
          "llmesh_tokens_total",
          "Tokens reported by providers, by provider, upstream model and type (prompt or "
          "completion).",
          {"provider", "model", "type"})),
      cost_usd(registry.AddCounter(
          "llmesh_cost_usd_total",
          "Estimated spend in US dollars, from reported token usage and configured prices.",
          {"provider", "model"})),
      provider_state(registry.AddGauge(
          "llmesh_provider_state",
          "Health of a provider model as seen by this proxy: 0 healthy, 1 cooling down, "
          "2 ejected.",
          {"provider", "model"})),
      retry_budget_exhausted(registry.AddCounter(
          "llmesh_retry_budget_exhausted_total",
          "Retries refused because the provider's retry budget was exhausted.", {"provider"})),
      config_version_info(registry.AddInfo(
          "llmesh_config_version_info",
          "The config version currently applied; the value is always 1.", {"version"})),
      gen_ai_operation_duration(registry.AddHistogram(
          "gen_ai_client_operation_duration_seconds",
          "GenAI operation duration (OpenTelemetry gen_ai.client.operation.duration), in "
          "seconds.",
          {"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model",
           "gen_ai_response_model"},
          Buckets(kGenAiDurationBuckets))),
      gen_ai_token_usage(registry.AddHistogram(
          "gen_ai_client_token_usage",
          "Number of input and output tokens used per operation (OpenTelemetry "
          "gen_ai.client.token.usage).",
          {"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model",
           "gen_ai_response_model", "gen_ai_token_type"},
          Buckets(kGenAiTokenBuckets))) {}

}  // namespace llmesh::metrics
