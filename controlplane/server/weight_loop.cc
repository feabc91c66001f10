#include "controlplane/server/weight_loop.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "controlplane/weights/target_weights.h"
#include "common/config/route_name.h"

namespace llmesh::control {
namespace {

namespace discoverypb = ::llmesh::discovery::v1;
namespace configpb = ::llmesh::config::v1;

Duration FromProto(const google::protobuf::Duration& d) {
  return std::chrono::duration_cast<Duration>(absl::ToChronoNanoseconds(FromDurationProto(d)));
}

RouteSlo SloOf(const configpb::Route& route) {
  RouteSlo slo;
  if (!route.has_slo()) return slo;
  const configpb::Slo& s = route.slo();
  if (s.has_max_error_rate()) slo.max_error_rate = s.max_error_rate();
  if (s.has_max_p95_latency()) slo.max_p95_latency = FromProto(s.max_p95_latency());
  if (s.has_max_p95_ttft()) slo.max_p95_ttft = FromProto(s.max_p95_ttft());
  if (s.has_max_rate_limited_share()) slo.max_rate_limited_share = s.max_rate_limited_share();
  return slo;
}

using config::RouteName;

// One tier per route and priority. A target listed twice in a tier (validation forbids it,
// but the computer would refuse the whole interval) keeps its first entry.
std::vector<TierInput> TiersOf(const discoverypb::RouteConfiguration& config,
                               std::map<std::string, RouteSlo>* slos) {
  std::map<std::pair<std::string, uint32_t>, TierInput> tiers;
  for (const configpb::Route& route : config.routes()) {
    const std::string& name = RouteName(route);
    const RouteSlo slo = SloOf(route);
    if (!slos->emplace(name, slo).second) continue;  // Duplicate route name: first wins.
    for (const configpb::Target& target : route.targets()) {
      TierInput& tier = tiers[{name, target.priority()}];
      tier.route = name;
      tier.priority = target.priority();
      tier.slo = slo;
      TargetKey key{target.provider(), target.model()};
      const bool listed = std::any_of(tier.targets.begin(), tier.targets.end(),
                                      [&](const TierInput::Target& t) { return t.key == key; });
      if (listed) continue;
      tier.targets.push_back({std::move(key), target.has_weight() ? target.weight() : 1u});
    }
  }
  std::vector<TierInput> out;
  out.reserve(tiers.size());
  for (auto& [id, tier] : tiers) out.push_back(std::move(tier));
  return out;
}

std::vector<WeightOverride> ConvertOverrides(const std::vector<StoredWeightOverride>& stored,
                                             absl::Time wall_now, MonoTime mono_now) {
  // Far enough for any real override, near enough that MonoTime cannot overflow.
  constexpr absl::Duration kLongest = absl::Hours(24 * 365 * 10);
  std::vector<WeightOverride> out;
  out.reserve(stored.size());
  for (const StoredWeightOverride& s : stored) {
    WeightOverride o;
    o.kind = s.weight.has_value() ? WeightOverride::Kind::kWeight : WeightOverride::Kind::kDrain;
    o.route = s.route;
    o.target = TargetKey{s.provider, s.model};
    o.weight = s.weight.value_or(0);
    const absl::Duration left = std::clamp(s.expire_time - wall_now, absl::ZeroDuration(), kLongest);
    o.expires_at = mono_now + std::chrono::duration_cast<Duration>(absl::ToChronoNanoseconds(left));
    o.note = s.comment;
    out.push_back(std::move(o));
  }
  return out;
}

discoverypb::WeightBasis BasisOf(WeightReason reason) {
  switch (reason) {
    case WeightReason::kCheapest:
    case WeightReason::kCostlier:
      return discoverypb::COST;
    case WeightReason::kSloBreach:
      return discoverypb::PROBE_FLOOR;
    case WeightReason::kNoTargetMeetsSlo:
    case WeightReason::kInsufficientSamples:
    case WeightReason::kStale:
      return discoverypb::STATIC;
    case WeightReason::kOverride:
      return discoverypb::OVERRIDE;
    case WeightReason::kDrain:
      return discoverypb::DRAINED;
  }
  return discoverypb::WEIGHT_BASIS_UNSPECIFIED;
}

}  // namespace

absl::StatusOr<std::unique_ptr<WeightLoop>> WeightLoop::Create(
    const WeightLoopOptions& options, const Clock& clock, std::function<absl::Time()> wall_clock,
    InMemoryResourceSource& resources, const TelemetryAggregator& telemetry,
    OverrideLister overrides) {
  if (options.interval <= Duration::zero()) {
    return absl::InvalidArgumentError("weight loop interval: must be positive");
  }
  if (options.ttl <= Duration::zero()) {
    return absl::InvalidArgumentError("weight assignment ttl: must be positive");
  }
  if (overrides == nullptr) return absl::InvalidArgumentError("weight loop: no override lister");
  LLMESH_ASSIGN_OR_RETURN(WeightComputer computer, WeightComputer::Create(options.weights, clock));
  if (wall_clock == nullptr) wall_clock = [] { return absl::Now(); };
  return std::unique_ptr<WeightLoop>(new WeightLoop(options, clock, std::move(wall_clock),
                                                    resources, telemetry, std::move(overrides),
                                                    std::move(computer)));
}

WeightLoop::WeightLoop(const WeightLoopOptions& options, const Clock& clock,
                       std::function<absl::Time()> wall_clock, InMemoryResourceSource& resources,
                       const TelemetryAggregator& telemetry, OverrideLister overrides,
                       WeightComputer computer)
    : options_(options),
      clock_(clock),
      wall_clock_(std::move(wall_clock)),
      resources_(resources),
      telemetry_(telemetry),
      overrides_(std::move(overrides)),
      computer_(std::move(computer)) {}

WeightLoop::~WeightLoop() { Stop(); }

void WeightLoop::Start() {
  thread_ = std::thread([this] { Run(); });
}

void WeightLoop::Stop() {
  {
    absl::MutexLock lock(&thread_mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void WeightLoop::Wake() {
  absl::MutexLock lock(&thread_mu_);
  wake_ = true;
}

uint64_t WeightLoop::failed_iterations() const {
  absl::MutexLock lock(&thread_mu_);
  return failed_;
}

void WeightLoop::Run() {
  const absl::Duration interval = absl::FromChrono(options_.interval);
  while (true) {
    if (absl::Status status = RunOnce(); !status.ok()) {
      log::Log(log::Level::kWarn, "weight computation failed; the last assignment stays in force",
               {{"error", status.ToString()}});
      absl::MutexLock lock(&thread_mu_);
      ++failed_;
    }
    absl::MutexLock lock(&thread_mu_);
    auto woken = [this]() ABSL_SHARED_LOCKS_REQUIRED(thread_mu_) { return stop_ || wake_; };
    thread_mu_.AwaitWithTimeout(absl::Condition(&woken), interval);
    if (stop_) return;
    wake_ = false;
  }
}

absl::Status WeightLoop::RunOnce() {
  absl::MutexLock run(&run_mu_);
  const std::shared_ptr<const VersionedResource> config =
      resources_.Current(ResourceType::kRouteConfiguration);
  if (config == nullptr) return absl::OkStatus();

  const absl::Time wall_now = wall_clock_();
  const MonoTime now = clock_.Now();
  LLMESH_ASSIGN_OR_RETURN(std::vector<StoredWeightOverride> stored, overrides_(wall_now));
  std::map<std::string, RouteSlo> slos;
  const std::vector<TierInput> tiers = TiersOf(config->resource().route_configuration(), &slos);
  const TelemetryWindow telemetry = telemetry_.Stats();
  LLMESH_ASSIGN_OR_RETURN(
      std::vector<TierAssignment> assignments,
      computer_.Compute(tiers, telemetry, ConvertOverrides(stored, wall_now, now)));

  const bool any_tier = std::any_of(assignments.begin(), assignments.end(),
                                    [](const TierAssignment& a) { return a.publish; });
  const bool due = !has_published_ || config->version != published_config_version_ ||
                   now - last_published_at_ >= options_.ttl / 3;
  if (!any_tier && !due) return absl::OkStatus();

  auto assignment = std::make_shared<discoverypb::WeightAssignment>();
  *assignment->mutable_computed_at() = TimestampProto(wall_now);
  *assignment->mutable_ttl() = DurationProto(absl::FromChrono(options_.ttl));
  assignment->set_route_configuration_version(config->version);
  std::map<RouteTargetKey, RouteTargetWeight> weights;
  discoverypb::RouteWeights* route = nullptr;
  for (const TierAssignment& tier : assignments) {
    // Tiers come ordered by route, so each route's tiers are adjacent.
    if (route == nullptr || route->route() != tier.route) {
      route = assignment->add_routes();
      route->set_route(tier.route);
    }
    const RouteSlo& slo = slos.at(tier.route);
    for (const TargetWeight& w : tier.published) {
      discoverypb::TargetWeight* out = route->add_targets();
      out->set_provider(w.target.provider);
      out->set_model(w.target.model);
      out->set_weight(w.weight);
      out->set_basis(BasisOf(w.reason));
      out->set_reason(w.reason_text);
      weights[{tier.route, w.target.provider, w.target.model}] = RouteTargetWeight{
          MeetsSlo(w.target, slo, telemetry, computer_.options(), now), w.weight, out->basis(),
          w.reason_text};
    }
  }
  resources_.SetWeights(*assignment);
  has_published_ = true;
  last_published_at_ = now;
  published_config_version_ = config->version;
  absl::MutexLock lock(&result_mu_);
  last_ = std::move(assignment);
  weights_ = std::move(weights);
  return absl::OkStatus();
}

std::shared_ptr<const discoverypb::WeightAssignment> WeightLoop::LastAssignment() const {
  absl::MutexLock lock(&result_mu_);
  return last_;
}

std::map<RouteTargetKey, RouteTargetWeight> WeightLoop::Weights() const {
  absl::MutexLock lock(&result_mu_);
  return weights_;
}

}  // namespace llmesh::control
