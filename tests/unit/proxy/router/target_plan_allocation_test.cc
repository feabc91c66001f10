// Checks that planning a route of up to 8 targets does not touch the heap, with or without the
// control plane's global weights, by counting calls to the replaceable global allocation
// functions while a plan is built.
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "common/config/loader.h"
#include "common/metrics/llmesh_metrics.h"
#include "common/metrics/registry.h"
#include "gtest/gtest.h"
#include "tests/fakes/allocation_counter.h"
#include "proxy/config/config_snapshot.h"
#include "proxy/router/router.h"
#include "proxy/router/target_plan.h"
#include "proxy/xds/global_weights.h"

namespace llmesh::router {
namespace {

using failover::TargetState;

TEST(TargetPlanAllocationTest, PlansEightTargetsWithoutHeapAllocation) {
  std::vector<PlanCandidate> candidates;
  for (uint32_t i = 0; i < 8; ++i) {
    candidates.push_back(PlanCandidate{
        i % 3, i + 1, i == 5 ? TargetState::kEjected : TargetState::kHealthy, Duration::zero()});
  }
  std::mt19937_64 engine(1);
  for (PlanStrategy strategy : {PlanStrategy::kFailover, PlanStrategy::kWeighted}) {
    llmesh::testing::StartCountingAllocations();
    const TargetPlan plan = PlanTargets(candidates, strategy, absl::BitGenRef(engine));
    const int allocated = llmesh::testing::StopCountingAllocations();
    EXPECT_EQ(plan.order.size(), 7u);
    EXPECT_EQ(allocated, 0);
  }
}

TEST(TargetPlanAllocationTest, CountsAllocationsOfLargerRoutes) {
  // Proves the counter works: nine targets spill the inline storage.
  std::vector<PlanCandidate> candidates(9);
  std::mt19937_64 engine(1);
  llmesh::testing::StartCountingAllocations();
  const TargetPlan plan = PlanTargets(candidates, PlanStrategy::kFailover, absl::BitGenRef(engine));
  const int allocated = llmesh::testing::StopCountingAllocations();
  EXPECT_EQ(plan.order.size(), 9u);
  EXPECT_GT(allocated, 0);
}

TEST(TargetPlanAllocationTest, RouterPlansWithGlobalWeightsWithoutHeapAllocation) {
  const auto no_env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  absl::StatusOr<config::v1::Config> parsed = config::ParseConfigYaml(R"(
providers:
  - {name: a, kind: openai_compatible, base_url: "http://127.0.0.1:9/", models: [{name: m}]}
  - {name: b, kind: openai_compatible, base_url: "http://127.0.0.1:9/", models: [{name: n}]}
routes:
  - model: chat
    strategy: weighted
    targets: [{provider: a, model: m}, {provider: b, model: n}, {provider: b, model: n, priority: 1}]
)", no_env);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  metrics::Registry registry;
  metrics::ProxyMetrics metrics(registry);
  config::SharedState shared(metrics);
  auto snapshot = config::ConfigSnapshot::Compile(*parsed, shared, no_env);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  const config::RouteSpec& route = (*snapshot)->routes()[0];

  discovery::v1::WeightAssignment assignment;
  assignment.mutable_ttl()->set_seconds(60);
  auto* weights = assignment.add_routes();
  weights->set_route("chat");
  auto* a = weights->add_targets();
  a->set_provider("a");
  a->set_model("m");
  a->set_weight(2500);
  auto* b = weights->add_targets();
  b->set_provider("b");
  b->set_model("n");
  b->set_weight(7500);
  FakeClock clock;
  xds::GlobalWeights global;
  global.Publish(*xds::AppliedWeights::Create(assignment, "v", clock.Now()));
  Router router(clock, &global);
  std::mt19937_64 engine(1);
  // The first plan takes the worker's copy of the published assignment.
  ASSERT_EQ(router.Plan(route, failover::Priority::kNormal, absl::BitGenRef(engine)).order.size(), 3u);
  llmesh::testing::StartCountingAllocations();
  const TargetPlan plan = router.Plan(route, failover::Priority::kNormal, absl::BitGenRef(engine));
  const int allocated = llmesh::testing::StopCountingAllocations();
  EXPECT_EQ(plan.order.size(), 3u);
  EXPECT_EQ(allocated, 0);
}

}  // namespace
}  // namespace llmesh::router
