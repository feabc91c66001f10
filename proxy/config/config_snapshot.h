// ConfigSnapshot: a validated config compiled into the immutable form the request path reads.
//
// The main thread compiles a snapshot once per config version and posts a
// shared_ptr<const ConfigSnapshot> to every worker (RCU): a request keeps the snapshot it
// started with, and hot paths never read proto or take a lock. What must outlive a snapshot
// and be shared by all workers (provider+model health, retry budgets, metric series) lives in
// SharedState, owned by main and reused across reloads.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/absl_view.h"
#include "common/config/loader.h"
#include "common/metrics/llmesh_metrics.h"
#include "llmesh/config/v1/config.pb.h"
#include "proxy/failover/retry_budget.h"
#include "proxy/failover/target_health.h"
#include "proxy/provider/provider.h"
#include "proxy/upstream/upstream.h"

namespace llmesh::config {

using Strategy = v1::Route::Strategy;

struct ModelSpec {
  std::string name;
  uint64_t context_window = 0;
  double input_usd_per_mtok = 0;
  double output_usd_per_mtok = 0;
  uint64_t max_output_tokens = 0;

  double CostUsd(const provider::Usage& usage) const {
    return (static_cast<double>(usage.prompt_tokens) * input_usd_per_mtok +
            static_cast<double>(usage.completion_tokens) * output_usd_per_mtok) / 1e6;
  }
};

// Metric series of one provider+model, resolved once at compile time.
struct TargetSeries {
  metrics::Histogram* attempt_duration = nullptr;
  metrics::Counter* prompt_tokens = nullptr;
  metrics::Counter* completion_tokens = nullptr;
  metrics::Counter* cost_usd = nullptr;
  metrics::Gauge* state = nullptr;
  metrics::Counter* attempt_success = nullptr;
  // Indexed by provider::FailureKind.
  std::vector<metrics::Counter*> attempt_failure;
};

struct ProviderSpec {
  std::string name;
  v1::Provider::Kind kind = v1::Provider::KIND_UNSPECIFIED;
  const provider::ProviderAdapter* adapter = nullptr;
  upstream::Endpoint endpoint;
  std::string host_header;  // endpoint.HostHeader(), computed once
  std::string base_path;    // path part of base_url, without a trailing slash
  std::string api_key;     // resolved at compile time; never logged
  std::string api_version;  // azure_openai's api-version; empty for other kinds
  metrics::Counter* retry_budget_exhausted = nullptr;
  failover::OutlierSettings outlier;  // defaults applied
  std::vector<ModelSpec> models;
};

struct TargetSpec {
  const ProviderSpec* provider = nullptr;
  const ModelSpec* model = nullptr;
  uint32_t priority = 0;
  uint32_t weight = 1;
  failover::TargetHealth* health = nullptr;  // shared, owned by SharedState
  // The provider's retry budget under this route's budget settings; shared, owned by SharedState.
  failover::RetryBudget* retry_budget = nullptr;
  const TargetSeries* series = nullptr;      // shared, owned by SharedState
};

// Metric series of one route and one of its targets (or of no target: provider "none").
struct RouteTargetSeries {
  metrics::Counter* requests_2xx = nullptr;
  metrics::Counter* requests_4xx = nullptr;
  metrics::Counter* requests_5xx = nullptr;
  metrics::Histogram* duration = nullptr;
  metrics::Histogram* time_to_first_token = nullptr;
  // OpenTelemetry GenAI series, indexed by provider::Operation (chat, embeddings).
  struct GenAi {
    metrics::Histogram* duration = nullptr;
    metrics::Histogram* input_tokens = nullptr;
    metrics::Histogram* output_tokens = nullptr;
  };
  GenAi gen_ai[2];
  // Indexed by provider::FailureKind: failovers away from this target, by reason.
  std::vector<metrics::Counter*> failovers;
};

struct Timeouts {
  std::chrono::milliseconds connect{2000};
  std::chrono::milliseconds first_byte{10000};
  std::chrono::milliseconds idle{30000};
  std::chrono::milliseconds per_try{60000};
  std::chrono::milliseconds total{120000};
};

struct RouteSpec {
  std::string name;
  std::string model;  // alias; "*" matches any
  Strategy strategy = v1::Route::FAILOVER;
  std::vector<TargetSpec> targets;
  std::vector<RouteTargetSeries> target_series;  // parallel to targets
  RouteTargetSeries no_target_series;            // requests that reached no provider
  Timeouts timeouts;
  uint32_t max_attempts = 0;                      // resolved: never 0
  std::chrono::milliseconds max_cooldown{300000};
  std::vector<std::pair<std::string, std::string>> match_headers;  // lower-case names
  // Bit (1 << ApiFormat) set for every wire format spoken by a target: a client request needs
  // its canonical form when some bit other than its own format's is set.
  uint8_t target_formats = 0;

  bool NeedsCanonical(provider::ApiFormat client) const {
    return (target_formats & ~(1u << static_cast<unsigned>(client))) != 0;
  }
};

struct Limits {
  uint64_t max_request_body_bytes = 8 << 20;
  uint32_t max_request_header_bytes = 64 << 10;
  std::chrono::milliseconds client_timeout{60000};
  std::chrono::milliseconds drain_timeout{30000};
};

// What survives reloads and is shared by all workers. Lives on the main thread's side; its
// members are only created (never destroyed) while compiling, and read lock-free by workers.
class SharedState {
 public:
  explicit SharedState(metrics::ProxyMetrics& metrics) : metrics_(metrics) {}
  SharedState(const SharedState&) = delete;
  SharedState& operator=(const SharedState&) = delete;

  metrics::ProxyMetrics& metrics() { return metrics_; }

  // Health of provider+model; created on first use. Main thread only.
  failover::TargetHealth& Health(std::string_view provider, std::string_view model,
                                 const failover::OutlierSettings& settings);
  failover::RetryBudget& Budget(std::string_view provider, double percent, uint32_t min_concurrency);
  const TargetSeries& Series(std::string_view provider, std::string_view model);

  // Every provider+model health entry with its names, for /providers and the state gauge.
  struct HealthEntry {
    std::string provider;
    std::string model;
    failover::TargetHealth* health;
    const TargetSeries* series;
  };
  std::vector<HealthEntry> HealthEntries() const;

 private:
  struct HealthSlot {
    failover::OutlierSettings settings;
    std::unique_ptr<failover::TargetHealth> health;
  };
  metrics::ProxyMetrics& metrics_;
  absl::flat_hash_map<std::string, HealthSlot> health_;  // key: provider '\0' model
  absl::flat_hash_map<std::string, std::unique_ptr<failover::RetryBudget>> budgets_;
  absl::flat_hash_map<std::string, std::unique_ptr<TargetSeries>> series_;
  // Retired entries stay alive: an older snapshot still in use may point at them.
  std::vector<std::unique_ptr<failover::TargetHealth>> retired_health_;
  std::vector<std::unique_ptr<failover::RetryBudget>> retired_budgets_;
};

class ConfigSnapshot {
 public:
  // Compiles a config that passed Validate(). Resolves API keys (from env or files), adapters
  // and upstream endpoints. INVALID_ARGUMENT with field paths for what Validate cannot see
  // (a provider kind this build cannot speak yet, an unreadable key). Main thread only.
  static absl::StatusOr<std::shared_ptr<const ConfigSnapshot>> Compile(
      const v1::Config& config, SharedState& shared, const EnvLookup& env);

  // The route for a request: by `x-llmesh-route` name when given, else the first route whose
  // model matches (exact, then "*") and whose header matches all hold. nullptr when none.
  // `header` looks up a request header by lower-case name (empty when absent).
  template <typename HeaderLookup>
  const RouteSpec* FindRoute(std::string_view model, std::string_view route_name,
                             const HeaderLookup& header) const;

  const std::vector<RouteSpec>& routes() const { return routes_; }
  const std::vector<std::unique_ptr<ProviderSpec>>& providers() const { return providers_; }
  const v1::Config& source() const { return source_; }
  // Content hash of the config, hex; also the value of llmesh_config_version_info.
  const std::string& version() const { return version_; }
  const Limits& limits() const { return limits_; }

 private:
  ConfigSnapshot() = default;

  v1::Config source_;
  std::string version_;
  Limits limits_;
  std::vector<std::unique_ptr<ProviderSpec>> providers_;  // stable addresses
  std::vector<RouteSpec> routes_;
  absl::flat_hash_map<std::string, size_t> route_by_name_;
};

// Validates a loaded config (its schema errors and every Validate() error against `env`) and
// compiles it: the one path every config takes to become a snapshot, whether it comes from the
// file at start-up, a SIGHUP reload or a control-plane push. INVALID_ARGUMENT listing one
// "field.path: problem" per line when either step refuses it. Main thread only, like Compile.
absl::StatusOr<std::shared_ptr<const ConfigSnapshot>> ValidateAndCompile(const PartialConfig& loaded,
                                                                         SharedState& shared,
                                                                         const EnvLookup& env);

template <typename HeaderLookup>
const RouteSpec* ConfigSnapshot::FindRoute(std::string_view model, std::string_view route_name,
                                           const HeaderLookup& header) const {
  auto headers_match = [&](const RouteSpec& route) {
    for (const auto& [name, value] : route.match_headers) {
      if (header(name) != value) return false;
    }
    return true;
  };
  if (!route_name.empty()) {
    auto it = route_by_name_.find(AbslView(route_name));
    return it == route_by_name_.end() ? nullptr : &routes_[it->second];
  }
  for (const RouteSpec& route : routes_) {
    if (route.model == model && headers_match(route)) return &route;
  }
  for (const RouteSpec& route : routes_) {
    if (route.model == "*" && headers_match(route)) return &route;
  }
  return nullptr;
}

}  // namespace llmesh::config
