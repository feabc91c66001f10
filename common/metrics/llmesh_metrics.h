// Every metric family the proxy exports (DESIGN.md §7), registered in one place so names,
// label names, help texts and buckets cannot drift between the code that records them.
//
// Built once on the main thread (constructing it again on the same registry, e.g. after a
// reload, returns the same families). Config compilation resolves series with
// `family.Get({...})` and keeps the references in the snapshot; workers only record into those
// references (lock-free). Label values: route, provider and model names from config, a status
// class, a failure kind name, a token type. Never a prompt, a key or a user id.
//
// Threading: as registry.h.
#pragma once

#include <array>
#include <string_view>

#include "common/metrics/registry.h"

namespace llmesh::metrics {

// Latency buckets for LLM calls, 5 ms to 120 s, in seconds.
inline constexpr std::array<double, 20> kLatencyBuckets = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5,
    2,     3,    5,     7.5,  10,  15,   20,  30,   60, 120};

// OpenTelemetry GenAI semantic conventions: advisory buckets of
// gen_ai.client.operation.duration (seconds) and gen_ai.client.token.usage (tokens).
inline constexpr std::array<double, 14> kGenAiDurationBuckets = {
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92};
inline constexpr std::array<double, 14> kGenAiTokenBuckets = {
    1,      4,       16,      64,       256,      1024,     4096,
    16384,  65536,   262144,  1048576,  4194304,  16777216, 67108864};

// Label values of the closed sets below. Failure reasons and attempt outcomes other than
// success are provider::FailureKindName() values.
namespace label {
inline constexpr std::string_view kOutcomeSuccess = "success";
inline constexpr std::string_view kTokenPrompt = "prompt";          // llmesh_tokens_total type
inline constexpr std::string_view kTokenCompletion = "completion";  // llmesh_tokens_total type
inline constexpr std::string_view kGenAiTokenInput = "input";       // gen_ai_token_type
inline constexpr std::string_view kGenAiTokenOutput = "output";     // gen_ai_token_type
inline constexpr std::string_view kGenAiOperationChat = "chat";
inline constexpr std::string_view kGenAiOperationEmbeddings = "embeddings";
}  // namespace label

// "1xx" ... "5xx" for an HTTP status, "other" outside 100-599. For code_class.
std::string_view CodeClass(int http_status);

// Values of llmesh_provider_state.
enum class ProviderState : int { kHealthy = 0, kCoolingDown = 1, kEjected = 2 };
inline void SetProviderState(Gauge& gauge, ProviderState state) {
  gauge.Set(static_cast<double>(state));
}

struct ProxyMetrics {
  explicit ProxyMetrics(Registry& registry = DefaultRegistry());

  // llmesh_requests_total{route,provider,model,code_class}: requests answered, by the target
  // that produced the final response (provider/model empty when none was attempted) and the
  // status class sent to the client.
  CounterFamily& requests;
  // llmesh_attempts_total{provider,model,outcome}: upstream attempts, outcome "success" or a
  // failure kind name.
  CounterFamily& attempts;
  // llmesh_failovers_total{route,from_provider,reason}: moves to the next target, by the
  // provider that failed and the failure kind that caused the move.
  CounterFamily& failovers;
  // llmesh_request_duration_seconds{route,provider,model}: receive to response end, all
  // attempts included.
  HistogramFamily& request_duration;
  // llmesh_time_to_first_token_seconds{route,provider,model}: receive to first content byte
  // sent downstream (streams).
  HistogramFamily& time_to_first_token;
  // llmesh_attempt_duration_seconds{provider,model}: one upstream attempt, send to end, any
  // outcome. Also the source of the admin /providers latency percentiles.
  HistogramFamily& attempt_duration;
  // llmesh_tokens_total{provider,model,type}: type label::kTokenPrompt / kTokenCompletion.
  CounterFamily& tokens;
  // llmesh_cost_usd_total{provider,model}: Counter::Add(usd).
  CounterFamily& cost_usd;
  // llmesh_provider_state{provider,model}: see ProviderState.
  GaugeFamily& provider_state;
  // llmesh_retry_budget_exhausted_total{provider}: retries refused by the retry budget.
  CounterFamily& retry_budget_exhausted;
  // llmesh_config_version_info{version} = 1 for the applied version only: Set({version}).
  InfoFamily& config_version_info;
  // gen_ai_client_operation_duration_seconds{gen_ai_operation_name,gen_ai_provider_name,
  // gen_ai_request_model,gen_ai_response_model}.
  HistogramFamily& gen_ai_operation_duration;
  // gen_ai_client_token_usage{gen_ai_operation_name,gen_ai_provider_name,gen_ai_request_model,
  // gen_ai_response_model,gen_ai_token_type}: token_type label::kGenAiTokenInput / Output.
  HistogramFamily& gen_ai_token_usage;
};

}  // namespace llmesh::metrics
