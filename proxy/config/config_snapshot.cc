#include "proxy/config/config_snapshot.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_view.h"
#include "common/config/api_key.h"
#include "common/config/route_name.h"
#include "common/config/validate.h"
#include "proxy/provider/adapter_registry.h"
#include "common/status_macros.h"

namespace llmesh::config {
namespace {

using std::chrono::milliseconds;

constexpr int kFailureKinds = static_cast<int>(provider::FailureKind::kQuota) + 1;

milliseconds ToMillis(const google::protobuf::Duration& d, milliseconds fallback) {
  if (d.seconds() == 0 && d.nanos() == 0) return fallback;
  return milliseconds(d.seconds() * 1000 + d.nanos() / 1000000);
}

milliseconds FieldMillis(bool has, const google::protobuf::Duration& d, milliseconds fallback) {
  return has ? ToMillis(d, fallback) : fallback;
}

// Deterministic serialisation, so equal configs give equal versions on every replica.
std::string ContentVersion(const v1::Config& config) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    config.SerializeToCodedStream(&coded);
  }
  uint64_t hash = 1469598103934665603ull;  // FNV-1a 64
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

failover::OutlierSettings OutlierFrom(const v1::Provider& provider) {
  failover::OutlierSettings settings;
  if (!provider.has_outlier_detection()) return settings;
  const v1::OutlierDetection& od = provider.outlier_detection();
  if (od.consecutive_failures() > 0) settings.consecutive_failures = od.consecutive_failures();
  if (od.has_base_ejection_time()) settings.base_ejection = ToMillis(od.base_ejection_time(), milliseconds(30000));
  if (od.has_max_ejection_time()) settings.max_ejection = ToMillis(od.max_ejection_time(), milliseconds(300000));
  if (od.failure_percentage_threshold() > 0) settings.failure_percentage_threshold = od.failure_percentage_threshold();
  if (od.failure_percentage_minimum_requests() > 0) settings.minimum_requests = od.failure_percentage_minimum_requests();
  if (od.has_failure_percentage_window()) settings.window = ToMillis(od.failure_percentage_window(), milliseconds(60000));
  return settings;
}

upstream::Http2Mode Http2ModeFrom(v1::Provider::Http2 http2) {
  switch (http2) {
    case v1::Provider::OFF:
      return upstream::Http2Mode::kOff;
    case v1::Provider::PRIOR_KNOWLEDGE:
      return upstream::Http2Mode::kPriorKnowledge;
    default:
      return upstream::Http2Mode::kAuto;
  }
}

bool SameSettings(const failover::OutlierSettings& a, const failover::OutlierSettings& b) {
  return a.consecutive_failures == b.consecutive_failures && a.base_ejection == b.base_ejection &&
         a.max_ejection == b.max_ejection &&
         a.failure_percentage_threshold == b.failure_percentage_threshold &&
         a.minimum_requests == b.minimum_requests && a.window == b.window;
}

std::string Key(std::string_view a, std::string_view b) {
  std::string key(a);
  key.push_back('\0');
  key.append(b);
  return key;
}

RouteTargetSeries RouteSeries(metrics::ProxyMetrics& m, const std::string& route, const std::string& alias,
                              std::string_view provider, std::string_view model) {
  RouteTargetSeries s;
  const std::string p(provider), mo(model);
  s.requests_2xx = &m.requests.Get({route, p, mo, "2xx"});
  s.requests_4xx = &m.requests.Get({route, p, mo, "4xx"});
  s.requests_5xx = &m.requests.Get({route, p, mo, "5xx"});
  s.duration = &m.request_duration.Get({route, p, mo});
  s.time_to_first_token = &m.time_to_first_token.Get({route, p, mo});
  namespace label = metrics::label;
  const std::string_view operations[2] = {label::kGenAiOperationChat, label::kGenAiOperationEmbeddings};
  for (int op = 0; op < 2; ++op) {
    s.gen_ai[op].duration = &m.gen_ai_operation_duration.Get({operations[op], p, alias, mo});
    s.gen_ai[op].input_tokens = &m.gen_ai_token_usage.Get({operations[op], p, alias, mo, label::kGenAiTokenInput});
    s.gen_ai[op].output_tokens = &m.gen_ai_token_usage.Get({operations[op], p, alias, mo, label::kGenAiTokenOutput});
  }
  s.failovers.resize(kFailureKinds);
  for (int k = 0; k < kFailureKinds; ++k) {
    s.failovers[k] = &m.failovers.Get(
        {route, p, std::string(provider::FailureKindName(static_cast<provider::FailureKind>(k)))});
  }
  return s;
}

}  // namespace

failover::TargetHealth& SharedState::Health(std::string_view provider, std::string_view model,
                                            const failover::OutlierSettings& settings) {
  HealthSlot& slot = health_[Key(provider, model)];
  if (slot.health == nullptr || !SameSettings(slot.settings, settings)) {
    // New settings start a fresh record; the old one stays alive for snapshots still using it.
    if (slot.health != nullptr) retired_health_.push_back(std::move(slot.health));
    slot.settings = settings;
    slot.health = std::make_unique<failover::TargetHealth>(settings);
  }
  return *slot.health;
}

failover::RetryBudget& SharedState::Budget(std::string_view provider, double percent,
                                           uint32_t min_concurrency) {
  std::unique_ptr<failover::RetryBudget>& budget =
      budgets_[absl::StrCat(AbslView(provider), "/", percent, "/", min_concurrency)];
  if (budget == nullptr) budget = std::make_unique<failover::RetryBudget>(percent, min_concurrency);
  return *budget;
}

const TargetSeries& SharedState::Series(std::string_view provider, std::string_view model) {
  std::unique_ptr<TargetSeries>& series = series_[Key(provider, model)];
  if (series != nullptr) return *series;
  series = std::make_unique<TargetSeries>();
  const std::string p(provider), m(model);
  series->attempt_duration = &metrics_.attempt_duration.Get({p, m});
  series->prompt_tokens = &metrics_.tokens.Get({p, m, "prompt"});
  series->completion_tokens = &metrics_.tokens.Get({p, m, "completion"});
  series->cost_usd = &metrics_.cost_usd.Get({p, m});
  series->state = &metrics_.provider_state.Get({p, m});
  series->attempt_success = &metrics_.attempts.Get({p, m, "success"});
  series->attempt_failure.resize(kFailureKinds);
  for (int k = 0; k < kFailureKinds; ++k) {
    series->attempt_failure[k] = &metrics_.attempts.Get(
        {p, m, std::string(provider::FailureKindName(static_cast<provider::FailureKind>(k)))});
  }
  return *series;
}

std::vector<SharedState::HealthEntry> SharedState::HealthEntries() const {
  std::vector<HealthEntry> entries;
  for (const auto& [key, slot] : health_) {
    const size_t split = key.find('\0');
    HealthEntry entry{key.substr(0, split), key.substr(split + 1), slot.health.get(), nullptr};
    if (auto it = series_.find(key); it != series_.end()) entry.series = it->second.get();
    entries.push_back(std::move(entry));
  }
  std::sort(entries.begin(), entries.end(), [](const HealthEntry& a, const HealthEntry& b) {
    return std::tie(a.provider, a.model) < std::tie(b.provider, b.model);
  });
  return entries;
}

absl::StatusOr<std::shared_ptr<const ConfigSnapshot>> ConfigSnapshot::Compile(
    const v1::Config& config, SharedState& shared, const EnvLookup& env) {
  std::shared_ptr<ConfigSnapshot> snapshot(new ConfigSnapshot());
  snapshot->source_ = config;
  snapshot->version_ = ContentVersion(config);

  if (config.has_limits()) {
    const v1::Limits& l = config.limits();
    if (l.max_request_body_bytes() > 0) snapshot->limits_.max_request_body_bytes = l.max_request_body_bytes();
    if (l.max_request_header_bytes() > 0) snapshot->limits_.max_request_header_bytes = l.max_request_header_bytes();
    snapshot->limits_.client_timeout = FieldMillis(l.has_client_timeout(), l.client_timeout(), snapshot->limits_.client_timeout);
    snapshot->limits_.drain_timeout = FieldMillis(l.has_drain_timeout(), l.drain_timeout(), snapshot->limits_.drain_timeout);
  }

  std::vector<std::string> errors;
  absl::flat_hash_map<std::string, const ProviderSpec*> providers_by_name;
  for (int i = 0; i < config.providers_size(); ++i) {
    const v1::Provider& p = config.providers(i);
    const std::string path = absl::StrCat("providers[", i, "]");
    auto spec = std::make_unique<ProviderSpec>();
    spec->name = p.name();
    spec->kind = p.kind();
    spec->adapter = provider::AdapterFor(p.kind());
    if (spec->adapter == nullptr) {
      errors.push_back(absl::StrCat(path, ".kind: ", absl::AsciiStrToLower(v1::Provider::Kind_Name(p.kind())),
                                    " is not supported by this version of llmesh-proxy"));
      continue;
    }
    absl::StatusOr<upstream::ParsedBaseUrl> url = upstream::ParseBaseUrl(p.base_url(), p.ca_file());
    if (!url.ok()) {
      errors.push_back(absl::StrCat(path, ".base_url: ", url.status().message()));
      continue;
    }
    spec->endpoint = url->endpoint;
    spec->endpoint.http2 = Http2ModeFrom(p.http2());
    spec->host_header = spec->endpoint.HostHeader();
    spec->base_path = url->base_path;
    spec->api_version = p.api_version();
    absl::StatusOr<std::string> key = ResolveApiKey(p, env);
    if (!key.ok()) {
      errors.push_back(absl::StrCat(path, ": ", key.status().message()));
      continue;
    }
    spec->api_key = *std::move(key);
    for (const v1::Model& m : p.models()) {
      spec->models.push_back(ModelSpec{m.name(), m.context_window(), m.input_usd_per_mtok(),
                                       m.output_usd_per_mtok(), m.max_output_tokens()});
    }
    spec->retry_budget_exhausted = &shared.metrics().retry_budget_exhausted.Get({p.name()});
    spec->outlier = OutlierFrom(p);
    providers_by_name[spec->name] = spec.get();
    snapshot->providers_.push_back(std::move(spec));
  }

  for (int r = 0; r < config.routes_size() && errors.empty(); ++r) {
    const v1::Route& proto = config.routes(r);
    RouteSpec route;
    route.model = proto.model();
    route.name = config::RouteName(proto);
    route.strategy = proto.strategy() == v1::Route::STRATEGY_UNSPECIFIED ? v1::Route::FAILOVER : proto.strategy();
    if (route.strategy == v1::Route::HEDGED) {
      errors.push_back(absl::StrCat("routes[", r, "].strategy: hedged is not supported by this version of llmesh-proxy"));
      continue;
    }
    const v1::Retry& retry = proto.retry();
    const double budget_percent = retry.budget_percent() > 0 ? retry.budget_percent() : 20.0;
    const uint32_t budget_min = retry.budget_min_concurrency() > 0 ? retry.budget_min_concurrency() : 3;
    route.max_cooldown = FieldMillis(retry.has_max_cooldown(), retry.max_cooldown(), route.max_cooldown);
    const v1::Timeouts& t = proto.timeouts();
    route.timeouts.connect = FieldMillis(t.has_connect(), t.connect(), route.timeouts.connect);
    route.timeouts.first_byte = FieldMillis(t.has_first_byte(), t.first_byte(), route.timeouts.first_byte);
    route.timeouts.idle = FieldMillis(t.has_idle(), t.idle(), route.timeouts.idle);
    route.timeouts.per_try = FieldMillis(t.has_per_try(), t.per_try(), route.timeouts.per_try);
    route.timeouts.total = FieldMillis(t.has_total(), t.total(), route.timeouts.total);
    for (const v1::HeaderMatch& h : proto.match_headers()) {
      route.match_headers.emplace_back(absl::AsciiStrToLower(h.name()), h.value());
    }
    for (int k = 0; k < proto.targets_size(); ++k) {
      const v1::Target& t = proto.targets(k);
      auto it = providers_by_name.find(t.provider());
      if (it == providers_by_name.end()) {
        errors.push_back(absl::StrCat("routes[", r, "].targets[", k, "].provider: unknown provider \"", t.provider(), "\""));
        continue;
      }
      const ProviderSpec* ps = it->second;
      auto model = std::find_if(ps->models.begin(), ps->models.end(),
                                [&](const ModelSpec& m) { return m.name == t.model(); });
      if (model == ps->models.end()) {
        errors.push_back(absl::StrCat("routes[", r, "].targets[", k, "].model: unknown model \"", t.model(),
                                      "\" for provider \"", t.provider(), "\""));
        continue;
      }
      TargetSpec target;
      target.provider = ps;
      target.model = &*model;
      target.priority = t.priority();
      target.weight = t.has_weight() ? t.weight() : 1;
      target.health = &shared.Health(ps->name, model->name, ps->outlier);
      target.series = &shared.Series(ps->name, model->name);
      // A provider's budget is shared by every route that uses it with the same settings.
      target.retry_budget = &shared.Budget(ps->name, budget_percent, budget_min);
      route.target_formats |= static_cast<uint8_t>(1u << static_cast<unsigned>(target.provider->adapter->format()));
      route.targets.push_back(target);
      route.target_series.push_back(RouteSeries(shared.metrics(), route.name, route.model, ps->name, model->name));
    }
    route.no_target_series = RouteSeries(shared.metrics(), route.name, route.model, "none", "none");
    route.max_attempts = retry.max_attempts() > 0 ? retry.max_attempts() : static_cast<uint32_t>(route.targets.size());
    snapshot->route_by_name_[route.name] = snapshot->routes_.size();
    snapshot->routes_.push_back(std::move(route));
  }

  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  shared.metrics().config_version_info.Set({snapshot->version_});
  return std::shared_ptr<const ConfigSnapshot>(std::move(snapshot));
}

absl::StatusOr<std::shared_ptr<const ConfigSnapshot>> ValidateAndCompile(const PartialConfig& loaded,
                                                                         SharedState& shared,
                                                                         const EnvLookup& env) {
  LLMESH_RETURN_IF_ERROR(ValidateToStatus(loaded, env));
  return ConfigSnapshot::Compile(loaded.config, shared, env);
}

}  // namespace llmesh::config
