#include "proxy/xds/global_weights.h"

#include <gtest/gtest.h>

#include <chrono>

namespace llmesh::xds {
namespace {

namespace dv1 = llmesh::discovery::v1;

dv1::WeightAssignment Assignment(int64_t ttl_seconds) {
  dv1::WeightAssignment assignment;
  assignment.mutable_ttl()->set_seconds(ttl_seconds);
  auto* route = assignment.add_routes();
  route->set_route("chat");
  auto* a = route->add_targets();
  a->set_provider("a");
  a->set_model("m");
  a->set_weight(200);
  auto* b = route->add_targets();
  b->set_provider("b");
  b->set_model("n");
  b->set_weight(9800);
  return assignment;
}

TEST(GlobalWeightsTest, FreshAssignmentReplacesStaticWeights) {
  FakeClock clock;
  GlobalWeights weights;
  auto applied = AppliedWeights::Create(Assignment(60), "w1", clock.Now());
  ASSERT_TRUE(applied.ok()) << applied.status();
  weights.Publish(*applied);
  EXPECT_EQ(weights.EffectiveWeight("chat", "a", "m", 1, clock.Now()), 200u);
  EXPECT_EQ(weights.EffectiveWeight("chat", "b", "n", 1, clock.Now()), 9800u);
  clock.Advance(std::chrono::seconds(59));
  EXPECT_EQ(weights.EffectiveWeight("chat", "a", "m", 1, clock.Now()), 200u);
}

TEST(GlobalWeightsTest, ExpiredAssignmentFallsBackToStaticWeights) {
  FakeClock clock;
  GlobalWeights weights;
  weights.Publish(*AppliedWeights::Create(Assignment(60), "w1", clock.Now()));
  clock.Advance(std::chrono::seconds(60));
  EXPECT_FALSE(weights.Current()->Fresh(clock.Now()));
  EXPECT_EQ(weights.EffectiveWeight("chat", "a", "m", 3, clock.Now()), 3u);
  EXPECT_EQ(weights.Current()->AssignedWeight("chat", "b", "n", clock.Now()), std::nullopt);
}

TEST(GlobalWeightsTest, TargetsAndRoutesNotNamedKeepStaticWeights) {
  FakeClock clock;
  GlobalWeights weights;
  EXPECT_EQ(weights.EffectiveWeight("chat", "a", "m", 5, clock.Now()), 5u);  // nothing applied yet
  weights.Publish(*AppliedWeights::Create(Assignment(60), "w1", clock.Now()));
  EXPECT_EQ(weights.EffectiveWeight("chat", "c", "m", 5, clock.Now()), 5u);
  EXPECT_EQ(weights.EffectiveWeight("other", "a", "m", 7, clock.Now()), 7u);
}

TEST(GlobalWeightsTest, RejectsMissingTtlAndDuplicateTargets) {
  dv1::WeightAssignment assignment = Assignment(0);
  *assignment.mutable_routes(0)->add_targets() = assignment.routes(0).targets(0);
  assignment.add_routes();
  auto applied = AppliedWeights::Create(assignment, "w1", MonoTime{});
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(applied.status().message(),
            "ttl: must be > 0, got 0s 0ns\n"
            "routes[0].targets[2]: duplicate target \"a/m\"\n"
            "routes[1].route: required");
}

TEST(GlobalWeightsTest, GenerationCountsPublicationsSoReadersKnowWhenToRefresh) {
  FakeClock clock;
  GlobalWeights weights;
  EXPECT_EQ(weights.generation(), 0u);
  EXPECT_EQ(weights.Current(), nullptr);
  weights.Publish(*AppliedWeights::Create(Assignment(60), "w1", clock.Now()));
  EXPECT_EQ(weights.generation(), 1u);
  weights.Publish(*AppliedWeights::Create(Assignment(60), "w2", clock.Now()));
  EXPECT_EQ(weights.generation(), 2u);
  EXPECT_EQ(weights.Current()->version(), "w2");
}

}  // namespace
}  // namespace llmesh::xds
