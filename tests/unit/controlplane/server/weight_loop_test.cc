// The control plane's weight loop without sockets: a route configuration in an
// InMemoryResourceSource, sidecar reports in a TelemetryAggregator, overrides from a list, time
// from a FakeClock; RunOnce drives one iteration and the published WeightAssignment is read
// back. Covers the probe floor of a degraded cheap target, the route SLO, overrides and drains
// with their expiry, the ttl / 3 re-issue and the owned thread's start and wake.
#include "controlplane/server/weight_loop.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace llmesh::control {
namespace {

namespace discoverypb = ::llmesh::discovery::v1;
namespace telemetrypb = ::llmesh::telemetry::v1;
using std::chrono::seconds;

const TargetKey kCheap{"alpha", "cheap-model"};
const TargetKey kDear{"beta", "dear-model"};
const absl::Time kWallStart = absl::FromUnixSeconds(1'800'000'000);

discoverypb::RouteConfiguration ChatConfig() {
  discoverypb::RouteConfiguration config;
  llmesh::config::v1::Route* route = config.add_routes();
  route->set_model("chat-alias");
  route->set_name("chat");
  for (const TargetKey& key : {kCheap, kDear}) {
    llmesh::config::v1::Target* target = route->add_targets();
    target->set_provider(key.provider);
    target->set_model(key.model);
  }
  return config;
}

telemetrypb::TargetStats Entry(const TargetKey& key, uint64_t successes, uint64_t server_errors,
                               uint64_t cost_nano_usd) {
  telemetrypb::TargetStats t;
  t.set_provider(key.provider);
  t.set_model(key.model);
  t.set_successes(successes);
  t.mutable_errors()->set_server_error(server_errors);
  t.set_attempts(successes + server_errors);
  t.set_cost_nano_usd(cost_nano_usd);
  return t;
}

// Cheap fails 20% of 100 attempts; dear is healthy at ten times the price.
telemetrypb::TelemetryReport DegradedCheapReport() {
  telemetrypb::TelemetryReport report;
  report.set_sequence(1);
  *report.add_targets() = Entry(kCheap, 80, 20, 80'000'000);
  *report.add_targets() = Entry(kDear, 100, 0, 1'000'000'000);
  return report;
}

class WeightLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto aggregator = TelemetryAggregator::Create({}, clock_);
    ASSERT_TRUE(aggregator.ok()) << aggregator.status();
    aggregator_ = *std::move(aggregator);
    resources_.SetRouteConfiguration(ChatConfig());
    loop_ = MakeLoop({});
  }

  std::unique_ptr<WeightLoop> MakeLoop(const WeightLoopOptions& options) {
    const MonoTime start = clock_.Now();
    auto loop = WeightLoop::Create(
        options, clock_, [this, start] { return kWallStart + absl::FromChrono(clock_.Now() - start); },
        resources_, *aggregator_, [this](absl::Time) {
          absl::MutexLock lock(&overrides_mu_);
          return absl::StatusOr<std::vector<StoredWeightOverride>>(overrides_);
        });
    EXPECT_TRUE(loop.ok()) << loop.status();
    return loop.ok() ? *std::move(loop) : nullptr;
  }

  void SetOverride(const TargetKey& key, std::optional<uint32_t> weight, absl::Duration lasts) {
    absl::MutexLock lock(&overrides_mu_);
    overrides_ = {StoredWeightOverride{"chat", key.provider, key.model, weight,
                                       kWallStart + lasts, "incident 4711", kWallStart}};
  }

  // The published weights of `route` as (provider, weight, basis) in target order.
  static std::vector<std::tuple<std::string, uint32_t, discoverypb::WeightBasis>> Published(
      const discoverypb::WeightAssignment& assignment, const std::string& route) {
    std::vector<std::tuple<std::string, uint32_t, discoverypb::WeightBasis>> out;
    for (const discoverypb::RouteWeights& r : assignment.routes()) {
      if (r.route() != route) continue;
      for (const discoverypb::TargetWeight& t : r.targets()) {
        out.emplace_back(t.provider(), t.weight(), t.basis());
      }
    }
    return out;
  }

  std::string CurrentVersion() const {
    auto current = resources_.Current(ResourceType::kWeightAssignment);
    return current == nullptr ? "" : current->version;
  }

  FakeClock clock_;
  InMemoryResourceSource resources_;
  std::unique_ptr<TelemetryAggregator> aggregator_;
  absl::Mutex overrides_mu_;
  std::vector<StoredWeightOverride> overrides_ ABSL_GUARDED_BY(overrides_mu_);
  std::unique_ptr<WeightLoop> loop_;
};

TEST_F(WeightLoopTest, DegradedCheapTargetDropsToTheProbeFloorInOneIteration) {
  ASSERT_TRUE(aggregator_->Ingest("pod-1", DegradedCheapReport()).ok());
  ASSERT_TRUE(loop_->RunOnce().ok());

  auto assignment = loop_->LastAssignment();
  ASSERT_TRUE(assignment != nullptr);
  using Row = std::tuple<std::string, uint32_t, discoverypb::WeightBasis>;
  EXPECT_EQ(Published(*assignment, "chat"),
            (std::vector<Row>{{"alpha", 200, discoverypb::PROBE_FLOOR},
                              {"beta", 9800, discoverypb::COST}}));
  EXPECT_EQ(assignment->ttl().seconds(), 60);
  EXPECT_EQ(assignment->computed_at().seconds(), absl::ToUnixSeconds(kWallStart));
  EXPECT_EQ(assignment->route_configuration_version(),
            resources_.Current(ResourceType::kRouteConfiguration)->version);
  EXPECT_FALSE(assignment->routes(0).targets(0).reason().empty());
  EXPECT_EQ(CurrentVersion(), WeightAssignmentVersion(*assignment));

  const std::map<RouteTargetKey, RouteTargetWeight> weights = loop_->Weights();
  ASSERT_EQ(weights.size(), 2u);
  const RouteTargetWeight& cheap = weights.at({"chat", "alpha", "cheap-model"});
  EXPECT_FALSE(cheap.slo_met);
  EXPECT_EQ(cheap.weight, 200u);
  EXPECT_EQ(cheap.basis, discoverypb::PROBE_FLOOR);
  EXPECT_EQ(cheap.reason, assignment->routes(0).targets(0).reason());
  const RouteTargetWeight& dear = weights.at({"chat", "beta", "dear-model"});
  EXPECT_TRUE(dear.slo_met);
  EXPECT_EQ(dear.weight, 9800u);
  EXPECT_EQ(dear.basis, discoverypb::COST);
}

TEST_F(WeightLoopTest, RouteSloFromTheConfigurationDecidesTheVerdict) {
  discoverypb::RouteConfiguration config = ChatConfig();
  config.mutable_routes(0)->mutable_slo()->set_max_error_rate(0.25);
  resources_.SetRouteConfiguration(config);
  ASSERT_TRUE(aggregator_->Ingest("pod-1", DegradedCheapReport()).ok());
  ASSERT_TRUE(loop_->RunOnce().ok());

  const std::map<RouteTargetKey, RouteTargetWeight> weights = loop_->Weights();
  const RouteTargetWeight& cheap = weights.at({"chat", "alpha", "cheap-model"});
  EXPECT_TRUE(cheap.slo_met);
  EXPECT_EQ(cheap.basis, discoverypb::COST);
  // Moving toward the cheap target is bounded per interval: it gains, but not everything.
  EXPECT_GT(cheap.weight, 5000u);
  EXPECT_LT(cheap.weight, 9800u);
}

TEST_F(WeightLoopTest, OverridePinsAndDrainsUntilItExpires) {
  SetOverride(kDear, 3000, absl::Seconds(10));
  ASSERT_TRUE(loop_->RunOnce().ok());
  using Row = std::tuple<std::string, uint32_t, discoverypb::WeightBasis>;
  EXPECT_EQ(Published(*loop_->LastAssignment(), "chat"),
            (std::vector<Row>{{"alpha", 7000, discoverypb::STATIC},
                              {"beta", 3000, discoverypb::OVERRIDE}}));

  SetOverride(kDear, std::nullopt, absl::Seconds(10));
  ASSERT_TRUE(loop_->RunOnce().ok());
  EXPECT_EQ(Published(*loop_->LastAssignment(), "chat"),
            (std::vector<Row>{{"alpha", 10000, discoverypb::STATIC},
                              {"beta", 0, discoverypb::DRAINED}}));

  // The wall-clock expiry counts on the loop's clock even if the lister still returns it.
  clock_.Advance(seconds(11));
  ASSERT_TRUE(loop_->RunOnce().ok());
  EXPECT_EQ(Published(*loop_->LastAssignment(), "chat"),
            (std::vector<Row>{{"alpha", 5000, discoverypb::STATIC},
                              {"beta", 5000, discoverypb::STATIC}}));
}

TEST_F(WeightLoopTest, ReissuesAnUnchangedAssignmentEveryThirdOfTheTtl) {
  ASSERT_TRUE(loop_->RunOnce().ok());
  const std::string first = CurrentVersion();
  ASSERT_FALSE(first.empty());

  clock_.Advance(seconds(19));
  ASSERT_TRUE(loop_->RunOnce().ok());
  EXPECT_EQ(CurrentVersion(), first);

  clock_.Advance(seconds(1));
  ASSERT_TRUE(loop_->RunOnce().ok());
  EXPECT_NE(CurrentVersion(), first);
  EXPECT_EQ(loop_->LastAssignment()->computed_at().seconds(), absl::ToUnixSeconds(kWallStart) + 20);
  using Row = std::tuple<std::string, uint32_t, discoverypb::WeightBasis>;
  EXPECT_EQ(Published(*loop_->LastAssignment(), "chat"),
            (std::vector<Row>{{"alpha", 5000, discoverypb::STATIC},
                              {"beta", 5000, discoverypb::STATIC}}));
}

TEST_F(WeightLoopTest, RouteConfigurationChangeIsPublishedAtOnce) {
  ASSERT_TRUE(loop_->RunOnce().ok());
  discoverypb::RouteConfiguration config = ChatConfig();
  llmesh::config::v1::Route* solo = config.add_routes();
  solo->set_model("solo");
  llmesh::config::v1::Target* target = solo->add_targets();
  target->set_provider("gamma");
  target->set_model("solo-model");
  target->set_priority(1);
  const std::string config_version = resources_.SetRouteConfiguration(config);

  clock_.Advance(seconds(1));
  ASSERT_TRUE(loop_->RunOnce().ok());
  auto assignment = loop_->LastAssignment();
  EXPECT_EQ(assignment->route_configuration_version(), config_version);
  using Row = std::tuple<std::string, uint32_t, discoverypb::WeightBasis>;
  EXPECT_EQ(Published(*assignment, "solo"),
            (std::vector<Row>{{"gamma", 10000, discoverypb::STATIC}}));
}

TEST_F(WeightLoopTest, ThreadComputesOnStartAndAgainWhenWoken) {
  WeightLoopOptions options;
  options.interval = std::chrono::hours(1);
  std::unique_ptr<WeightLoop> loop = MakeLoop(options);
  absl::Mutex mu;
  int changes = 0;
  const ResourceSource::SubscriptionId id = resources_.Subscribe([&] {
    absl::MutexLock lock(&mu);
    ++changes;
  });
  auto has_basis = [&](discoverypb::WeightBasis basis) {
    // Read what the change callback saw: the source is updated before it notifies.
    auto current = resources_.Current(ResourceType::kWeightAssignment);
    if (current == nullptr) return false;
    for (const auto& [provider, weight, b] :
         Published(current->resource().weight_assignment(), "chat")) {
      if (b == basis) return true;
    }
    return false;
  };

  loop->Start();
  {
    absl::MutexLock lock(&mu);
    auto published = [&]() { return has_basis(discoverypb::STATIC); };
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&published), absl::Seconds(10)));
  }
  SetOverride(kDear, 3000, absl::Hours(1));
  loop->Wake();
  {
    absl::MutexLock lock(&mu);
    auto overridden = [&]() { return has_basis(discoverypb::OVERRIDE); };
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&overridden), absl::Seconds(10)));
  }
  loop->Stop();
  resources_.Unsubscribe(id);
  EXPECT_EQ(loop->failed_iterations(), 0u);
}

TEST(WeightLoopCreateTest, RefusesANonPositiveInterval) {
  FakeClock clock;
  InMemoryResourceSource resources;
  auto aggregator = TelemetryAggregator::Create({}, clock);
  ASSERT_TRUE(aggregator.ok());
  WeightLoopOptions options;
  options.interval = Duration::zero();
  auto loop = WeightLoop::Create(options, clock, nullptr, resources, **aggregator,
                                 [](absl::Time) -> absl::StatusOr<std::vector<StoredWeightOverride>> {
                                   return std::vector<StoredWeightOverride>{};
                                 });
  EXPECT_EQ(loop.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace llmesh::control
