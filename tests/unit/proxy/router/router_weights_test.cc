// The router's use of the control plane's global weights (proxy/router/effective_weights.h):
// fresh assignments replace static weights, expired ones give way to them again, a drained
// target goes last, and local health (ejection, cooldown) overrides any global weight.
//
// Selection counts are exact: StratifiedBits makes n consecutive draws of absl::Uniform over
// [0, n) hit every value once, so n plans of a two-target tier whose weights sum to n pick
// each target exactly weight times first.
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "common/config/loader.h"
#include "common/metrics/llmesh_metrics.h"
#include "common/metrics/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/config/config_snapshot.h"
#include "proxy/router/effective_weights.h"
#include "proxy/router/router.h"
#include "proxy/xds/global_weights.h"

namespace llmesh::router {
namespace {

namespace dv1 = llmesh::discovery::v1;
using std::chrono::seconds;
using ::testing::ElementsAre;

// A generator whose draws walk [0, 2^64) in `n` equal strata, one value from the middle of
// each (moved by less than n so that it is also congruent to its stratum modulo n), then start
// over. absl::Uniform(gen, 0, n) maps a draw to floor(bits * n / 2^64), or to its low bits when
// n is a power of two, so any n consecutive draws give every value of [0, n) exactly once.
class StratifiedBits {
 public:
  using result_type = uint64_t;
  explicit StratifiedBits(uint64_t n) : n_(n) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return UINT64_MAX; }
  result_type operator()() {
    const uint64_t i = next_++ % n_;
    const auto middle = static_cast<uint64_t>((static_cast<unsigned __int128>(2 * i + 1) << 64) / (2 * n_));
    return middle + (i + n_ - middle % n_) % n_;
  }

 private:
  uint64_t n_;
  uint64_t next_ = 0;
};

config::EnvLookup NoEnv() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

// Providers a, b, c with models m, n, o; `routes` is the routes: section.
std::string ConfigYaml(std::string_view routes) {
  return absl::StrCat(R"(
providers:
  - {name: a, kind: openai_compatible, base_url: "http://127.0.0.1:9/", models: [{name: m}]}
  - {name: b, kind: openai_compatible, base_url: "http://127.0.0.1:9/", models: [{name: n}]}
  - {name: c, kind: openai_compatible, base_url: "http://127.0.0.1:9/", models: [{name: o}]}
routes:
)", AbslView(routes));
}

struct Weight {
  std::string provider;
  std::string model;
  uint32_t weight;
};

dv1::WeightAssignment Assignment(std::string route, std::vector<Weight> weights, seconds ttl = seconds(60)) {
  dv1::WeightAssignment assignment;
  assignment.mutable_ttl()->set_seconds(ttl.count());
  dv1::RouteWeights& route_weights = *assignment.add_routes();
  route_weights.set_route(std::move(route));
  for (const Weight& w : weights) {
    dv1::TargetWeight& target = *route_weights.add_targets();
    target.set_provider(w.provider);
    target.set_model(w.model);
    target.set_weight(w.weight);
  }
  return assignment;
}

class RouterWeightsTest : public ::testing::Test {
 protected:
  const config::RouteSpec& Compile(std::string_view routes) {
    absl::StatusOr<config::v1::Config> parsed = config::ParseConfigYaml(ConfigYaml(routes), NoEnv());
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    absl::StatusOr<std::shared_ptr<const config::ConfigSnapshot>> compiled =
        config::ConfigSnapshot::Compile(*parsed, shared_, NoEnv());
    EXPECT_TRUE(compiled.ok()) << compiled.status();
    snapshot_ = *compiled;
    return snapshot_->routes()[0];
  }

  void Publish(const dv1::WeightAssignment& assignment) {
    absl::StatusOr<std::shared_ptr<const xds::AppliedWeights>> applied =
        xds::AppliedWeights::Create(assignment, "v", clock_.Now());
    ASSERT_TRUE(applied.ok()) << applied.status();
    weights_.Publish(*applied);
  }

  // How often each target comes first in `plans` plans drawn with StratifiedBits(strata).
  std::vector<int> FirstPicks(const config::RouteSpec& route, int plans, uint64_t strata) {
    StratifiedBits bits(strata);
    std::vector<int> first(route.targets.size());
    for (int i = 0; i < plans; ++i) {
      const TargetPlan plan = router_.Plan(route, failover::Priority::kNormal, absl::BitGenRef(bits));
      if (!plan.order.empty()) ++first[plan.order[0]];
    }
    return first;
  }

  std::vector<uint16_t> Order(const config::RouteSpec& route) {
    StratifiedBits bits(7);
    const TargetPlan plan = router_.Plan(route, failover::Priority::kNormal, absl::BitGenRef(bits));
    return std::vector<uint16_t>(plan.order.begin(), plan.order.end());
  }

  metrics::Registry registry_;
  metrics::ProxyMetrics metrics_{registry_};
  config::SharedState shared_{metrics_};
  std::shared_ptr<const config::ConfigSnapshot> snapshot_;
  FakeClock clock_;
  xds::GlobalWeights weights_;
  Router router_{clock_, &weights_};
};

constexpr std::string_view kWeightedPair = R"(
  - model: chat
    strategy: weighted
    targets: [{provider: a, model: m, weight: 1}, {provider: b, model: n, weight: 4}]
)";

TEST_F(RouterWeightsTest, StratifiedDrawsGiveExactStaticProportions) {
  // The generator's own check: with no assignment the static 1:4 split is exact.
  const config::RouteSpec& route = Compile(kWeightedPair);
  EXPECT_THAT(FirstPicks(route, 5000, 5), ElementsAre(1000, 4000));
}

TEST_F(RouterWeightsTest, FreshGlobalWeightsReplaceStaticWeights) {
  const config::RouteSpec& route = Compile(kWeightedPair);
  Publish(Assignment("chat", {{"a", "m", 7000}, {"b", "n", 3000}}));
  EXPECT_THAT(FirstPicks(route, 10000, 10000), ElementsAre(7000, 3000));
}

TEST_F(RouterWeightsTest, ExpiredAssignmentGivesStaticWeightsBack) {
  const config::RouteSpec& route = Compile(kWeightedPair);
  Publish(Assignment("chat", {{"a", "m", 7000}, {"b", "n", 3000}}, seconds(60)));
  clock_.Advance(seconds(59));
  EXPECT_THAT(FirstPicks(route, 10000, 10000), ElementsAre(7000, 3000));
  clock_.Advance(seconds(1));
  EXPECT_THAT(FirstPicks(route, 5000, 5), ElementsAre(1000, 4000));
}

TEST_F(RouterWeightsTest, NewerAssignmentIsUsedFromTheNextPlan) {
  const config::RouteSpec& route = Compile(kWeightedPair);
  Publish(Assignment("chat", {{"a", "m", 7000}, {"b", "n", 3000}}));
  EXPECT_THAT(FirstPicks(route, 10000, 10000), ElementsAre(7000, 3000));
  Publish(Assignment("chat", {{"a", "m", 2500}, {"b", "n", 7500}}));
  EXPECT_THAT(FirstPicks(route, 10000, 10000), ElementsAre(2500, 7500));
}

TEST_F(RouterWeightsTest, AssignmentForAnotherRouteLeavesStaticWeights) {
  const config::RouteSpec& route = Compile(kWeightedPair);
  Publish(Assignment("other", {{"a", "m", 9000}, {"b", "n", 1000}}));
  EXPECT_THAT(FirstPicks(route, 5000, 5), ElementsAre(1000, 4000));
}

TEST_F(RouterWeightsTest, RouteWithoutNameIsLookedUpByItsModel) {
  const config::RouteSpec& unnamed = Compile(kWeightedPair);
  ASSERT_EQ(unnamed.name, "chat");
  Publish(Assignment("chat", {{"a", "m", 6000}, {"b", "n", 4000}}));
  EXPECT_THAT(FirstPicks(unnamed, 10000, 10000), ElementsAre(6000, 4000));

  const config::RouteSpec& named = Compile(R"(
  - model: chat
    name: premium
    strategy: weighted
    targets: [{provider: a, model: m, weight: 1}, {provider: b, model: n, weight: 4}]
)");
  // The assignment names "chat", the model; this route is called "premium".
  EXPECT_THAT(FirstPicks(named, 5000, 5), ElementsAre(1000, 4000));
  Publish(Assignment("premium", {{"a", "m", 5000}, {"b", "n", 5000}}));
  EXPECT_THAT(FirstPicks(named, 10000, 10000), ElementsAre(5000, 5000));
}

TEST_F(RouterWeightsTest, DrainedTargetIsPlannedAfterEveryOtherTarget) {
  const config::RouteSpec& route = Compile(R"(
  - model: chat
    strategy: weighted
    targets:
      - {provider: a, model: m}
      - {provider: b, model: n}
      - {provider: c, model: o, priority: 1}
)");
  Publish(Assignment("chat", {{"a", "m", 0}, {"b", "n", 10000}}));
  for (int i = 0; i < 100; ++i) ASSERT_THAT(Order(route), ElementsAre(1, 2, 0));
  EXPECT_THAT(FirstPicks(route, 10000, 10000), ElementsAre(0, 10000, 0));
}

TEST_F(RouterWeightsTest, DrainedTargetServesWhenNothingElseIsAvailable) {
  const config::RouteSpec& route = Compile(R"(
  - model: chat
    strategy: weighted
    targets:
      - {provider: a, model: m}
      - {provider: b, model: n}
      - {provider: c, model: o, priority: 1}
)");
  Publish(Assignment("chat", {{"a", "m", 0}, {"b", "n", 10000}}));
  route.targets[1].health->RecordRateLimit(clock_.Now(), std::chrono::milliseconds(30000), 1.0);
  for (int i = 0; i < 5; ++i) route.targets[2].health->RecordOutcome(clock_.Now(), provider::FailureKind::kServerError);
  ASSERT_EQ(route.targets[2].health->State(clock_.Now()), failover::TargetState::kEjected);
  EXPECT_THAT(Order(route), ElementsAre(0));
}

TEST_F(RouterWeightsTest, DrainAppliesToFailoverRoutesWhoseOrderOtherwiseStays) {
  const config::RouteSpec& route = Compile(R"(
  - model: chat
    targets: [{provider: a, model: m}, {provider: b, model: n}, {provider: c, model: o}]
)");
  // Failover keeps list order whatever the weights; only a drain moves a target.
  Publish(Assignment("chat", {{"a", "m", 100}, {"b", "n", 9900}, {"c", "o", 0}}));
  EXPECT_THAT(Order(route), ElementsAre(0, 1, 2));
  Publish(Assignment("chat", {{"a", "m", 0}, {"b", "n", 5000}, {"c", "o", 5000}}));
  EXPECT_THAT(Order(route), ElementsAre(1, 2, 0));
}

TEST_F(RouterWeightsTest, LocalEjectionOverridesAHighGlobalWeight) {
  const config::RouteSpec& route = Compile(kWeightedPair);
  Publish(Assignment("chat", {{"a", "m", 9800}, {"b", "n", 200}}));
  for (int i = 0; i < 5; ++i) route.targets[0].health->RecordOutcome(clock_.Now(), provider::FailureKind::kConnect);
  ASSERT_EQ(route.targets[0].health->State(clock_.Now()), failover::TargetState::kEjected);
  EXPECT_THAT(FirstPicks(route, 10000, 10000), ElementsAre(0, 10000));
  EXPECT_THAT(Order(route), ElementsAre(1));
}

TEST_F(RouterWeightsTest, LocalCooldownOverridesAHighGlobalWeight) {
  const config::RouteSpec& route = Compile(kWeightedPair);
  Publish(Assignment("chat", {{"a", "m", 9800}, {"b", "n", 200}}));
  route.targets[0].health->RecordRateLimit(clock_.Now(), std::chrono::milliseconds(10000), 1.0);
  EXPECT_THAT(FirstPicks(route, 10000, 10000), ElementsAre(0, 10000));
  clock_.Advance(seconds(11));
  EXPECT_THAT(FirstPicks(route, 10000, 10000), ElementsAre(9800, 200));
}

TEST(ResolveWeightsTest, TargetsLeftOutKeepTheirStaticShareOfTheTier) {
  metrics::Registry registry;
  metrics::ProxyMetrics metrics(registry);
  config::SharedState shared(metrics);
  absl::StatusOr<config::v1::Config> parsed = config::ParseConfigYaml(ConfigYaml(R"(
  - model: chat
    strategy: weighted
    targets:
      - {provider: a, model: m, weight: 1}
      - {provider: b, model: n, weight: 1}
      - {provider: c, model: o, weight: 2}
      - {provider: c, model: o, weight: 5, priority: 1}
)"), NoEnv());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto snapshot = config::ConfigSnapshot::Compile(*parsed, shared, NoEnv());
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  const config::RouteSpec& route = (*snapshot)->routes()[0];
  FakeClock clock;
  auto applied = xds::AppliedWeights::Create(Assignment("chat", {{"a", "m", 6000}, {"b", "n", 4000}}), "v",
                                             clock.Now());
  ASSERT_TRUE(applied.ok()) << applied.status();

  std::array<EffectiveWeight, 4> out;
  ResolveWeights(route, applied->get(), clock.Now(), absl::MakeSpan(out));
  EXPECT_EQ(out[0].weight, 6000u);
  EXPECT_EQ(out[0].source, WeightSource::kGlobal);
  EXPECT_EQ(out[1].weight, 4000u);
  // c/o has 2 of the tier's 4 static units: half the tier, 5000 basis points.
  EXPECT_EQ(out[2].weight, 5000u);
  EXPECT_EQ(out[2].source, WeightSource::kStatic);
  // Tier 1 is not named by the assignment: its static weight as configured.
  EXPECT_EQ(out[3].weight, 5u);
  EXPECT_EQ(out[3].source, WeightSource::kStatic);
  EXPECT_FALSE(out[0].drained());

  ResolveWeights(route, applied->get(), clock.Now() + seconds(60), absl::MakeSpan(out));
  EXPECT_EQ(out[0].weight, 1u);
  EXPECT_EQ(out[2].weight, 2u);
  EXPECT_EQ(out[0].source, WeightSource::kStatic);

  ResolveWeights(route, nullptr, clock.Now(), absl::MakeSpan(out));
  EXPECT_EQ(out[1].weight, 1u);
  EXPECT_EQ(WeightSourceName(out[1].source), "static");
}

}  // namespace
}  // namespace llmesh::router
