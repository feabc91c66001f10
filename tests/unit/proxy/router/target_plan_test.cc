#include "proxy/router/target_plan.h"

#include <array>
#include <chrono>
#include <random>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace llmesh::router {
namespace {

using failover::TargetState;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

PlanCandidate Healthy(uint32_t priority = 0, uint32_t weight = 1) {
  return PlanCandidate{priority, weight, TargetState::kHealthy, Duration::zero()};
}
PlanCandidate Ejected(uint32_t priority = 0, uint32_t weight = 1) {
  return PlanCandidate{priority, weight, TargetState::kEjected, Duration::zero()};
}
PlanCandidate CoolingDown(Duration remaining, uint32_t priority = 0) {
  return PlanCandidate{priority, 1, TargetState::kCoolingDown, remaining};
}
PlanCandidate Drained(uint32_t priority = 0, TargetState state = TargetState::kHealthy) {
  return PlanCandidate{priority, 0, state, Duration::zero(), true};
}

std::vector<uint16_t> Order(const TargetPlan& plan) {
  return std::vector<uint16_t>(plan.order.begin(), plan.order.end());
}

class TargetPlanTest : public ::testing::Test {
 protected:
  TargetPlan Plan(const std::vector<PlanCandidate>& candidates,
                  PlanStrategy strategy = PlanStrategy::kFailover) {
    return PlanTargets(candidates, strategy, absl::BitGenRef(engine_));
  }

  std::mt19937_64 engine_{7};
};

TEST_F(TargetPlanTest, EmptyRouteGivesEmptyPlan) {
  const TargetPlan plan = Plan({});
  EXPECT_THAT(Order(plan), IsEmpty());
  EXPECT_FALSE(plan.all_cooling_down);
  EXPECT_FALSE(plan.panic);
  EXPECT_EQ(plan.shortest_cooldown, Duration::zero());
}

TEST_F(TargetPlanTest, FailoverKeepsListOrderInsideATier) {
  const TargetPlan plan = Plan({Healthy(), Healthy(), Healthy()});
  EXPECT_THAT(Order(plan), ElementsAre(0, 1, 2));
  EXPECT_FALSE(plan.panic);
}

TEST_F(TargetPlanTest, TiersGoByAscendingPriority) {
  const TargetPlan plan = Plan({Healthy(2), Healthy(0), Healthy(1), Healthy(0), Healthy(2)});
  EXPECT_THAT(Order(plan), ElementsAre(1, 3, 2, 0, 4));
}

TEST_F(TargetPlanTest, SkipsEjectedTargetsWhileAnyTargetIsHealthy) {
  const TargetPlan plan = Plan({Ejected(0), Healthy(0), Ejected(1), Healthy(2)});
  EXPECT_THAT(Order(plan), ElementsAre(1, 3));
  EXPECT_FALSE(plan.panic);
}

TEST_F(TargetPlanTest, HealthyTargetInLaterTierBeatsEjectedOnesInEarlierTiers) {
  const TargetPlan plan = Plan({Ejected(0), Ejected(0), Healthy(5)});
  EXPECT_THAT(Order(plan), ElementsAre(2));
  EXPECT_FALSE(plan.panic);
}

TEST_F(TargetPlanTest, NeverTriesCoolingDownTargets) {
  const TargetPlan plan = Plan({CoolingDown(seconds(5)), Healthy(), CoolingDown(seconds(3), 1)});
  EXPECT_THAT(Order(plan), ElementsAre(1));
  EXPECT_FALSE(plan.all_cooling_down);
  // Reported anyway: the client's retry-after if the healthy target fails too.
  EXPECT_EQ(plan.shortest_cooldown, seconds(3));
}

TEST_F(TargetPlanTest, PanicModeTriesEjectedTargetsInTierOrder) {
  const TargetPlan plan = Plan({Ejected(1), Ejected(0), Ejected(1), Ejected(0)});
  EXPECT_THAT(Order(plan), ElementsAre(1, 3, 0, 2));
  EXPECT_TRUE(plan.panic);
  EXPECT_FALSE(plan.all_cooling_down);
}

TEST_F(TargetPlanTest, PanicModeStillSkipsCoolingDownTargets) {
  const TargetPlan plan = Plan({CoolingDown(seconds(10)), Ejected(1), Ejected(0)});
  EXPECT_THAT(Order(plan), ElementsAre(2, 1));
  EXPECT_TRUE(plan.panic);
  EXPECT_FALSE(plan.all_cooling_down);
  EXPECT_EQ(plan.shortest_cooldown, seconds(10));
}

TEST_F(TargetPlanTest, AllCoolingDownGivesEmptyOrderAndShortestCooldown) {
  const TargetPlan plan =
      Plan({CoolingDown(seconds(40)), CoolingDown(seconds(12), 1), CoolingDown(seconds(90), 2)});
  EXPECT_THAT(Order(plan), IsEmpty());
  EXPECT_TRUE(plan.all_cooling_down);
  EXPECT_FALSE(plan.panic);
  EXPECT_EQ(plan.shortest_cooldown, seconds(12));
}

TEST_F(TargetPlanTest, WeightedPlanIsAPermutationOfEachTier) {
  for (int i = 0; i < 1000; ++i) {
    const TargetPlan plan = Plan({Healthy(1, 5), Healthy(0, 1), Healthy(0, 3), Healthy(1, 2),
                                  Healthy(0, 6), Ejected(0, 100)},
                                 PlanStrategy::kWeighted);
    ASSERT_EQ(plan.order.size(), 5u);
    // Tier 0 (targets 1, 2, 4) first, in some order; then tier 1 (targets 0, 3).
    EXPECT_THAT(std::vector<uint16_t>(plan.order.begin(), plan.order.begin() + 3),
                ::testing::UnorderedElementsAre(1, 2, 4));
    EXPECT_THAT(std::vector<uint16_t>(plan.order.begin() + 3, plan.order.end()),
                ::testing::UnorderedElementsAre(0, 3));
  }
}

TEST_F(TargetPlanTest, WeightedFirstPickFollowsTheWeights) {
  const std::vector<PlanCandidate> candidates = {Healthy(0, 1), Healthy(0, 2), Healthy(0, 7)};
  constexpr int kDraws = 100000;
  std::array<int, 3> first{};
  for (int i = 0; i < kDraws; ++i) {
    ++first[Plan(candidates, PlanStrategy::kWeighted).order[0]];
  }
  // Standard deviation of each share is below 0.0015; 0.01 is over six of them.
  EXPECT_NEAR(first[0] / static_cast<double>(kDraws), 0.1, 0.01);
  EXPECT_NEAR(first[1] / static_cast<double>(kDraws), 0.2, 0.01);
  EXPECT_NEAR(first[2] / static_cast<double>(kDraws), 0.7, 0.01);
}

TEST_F(TargetPlanTest, WeightedLaterPicksAreWithoutReplacement) {
  const std::vector<PlanCandidate> candidates = {Healthy(0, 1), Healthy(0, 2), Healthy(0, 7)};
  constexpr int kDraws = 100000;
  std::array<int, 3> second{};
  for (int i = 0; i < kDraws; ++i) {
    ++second[Plan(candidates, PlanStrategy::kWeighted).order[1]];
  }
  // P(second = a) = sum over b != a of P(first = b) * w_a / (10 - w_b).
  const double p0 = 0.2 * 1 / 8 + 0.7 * 1 / 3.0;
  const double p1 = 0.1 * 2 / 9 + 0.7 * 2 / 3.0;
  const double p2 = 0.1 * 7 / 9 + 0.2 * 7 / 8;
  ASSERT_NEAR(p0 + p1 + p2, 1.0, 1e-12);
  EXPECT_NEAR(second[0] / static_cast<double>(kDraws), p0, 0.01);
  EXPECT_NEAR(second[1] / static_cast<double>(kDraws), p1, 0.01);
  EXPECT_NEAR(second[2] / static_cast<double>(kDraws), p2, 0.01);
}

TEST_F(TargetPlanTest, WeightedPlanIgnoresUnplannedTargetsWeights) {
  // The ejected heavyweight must not distort the draw among the healthy pair.
  const std::vector<PlanCandidate> candidates = {Ejected(0, 1000), Healthy(0, 1), Healthy(0, 1)};
  constexpr int kDraws = 20000;
  int first_is_1 = 0;
  for (int i = 0; i < kDraws; ++i) {
    const TargetPlan plan = Plan(candidates, PlanStrategy::kWeighted);
    ASSERT_EQ(plan.order.size(), 2u);
    if (plan.order[0] == 1) ++first_is_1;
  }
  EXPECT_NEAR(first_is_1 / static_cast<double>(kDraws), 0.5, 0.02);
}

TEST_F(TargetPlanTest, ZeroWeightTargetsComeLastInListOrder) {
  for (int i = 0; i < 200; ++i) {
    const TargetPlan plan =
        Plan({Healthy(0, 0), Healthy(0, 3), Healthy(0, 0), Healthy(0, 1)}, PlanStrategy::kWeighted);
    ASSERT_EQ(plan.order.size(), 4u);
    EXPECT_THAT(std::vector<uint16_t>(plan.order.begin() + 2, plan.order.end()), ElementsAre(0, 2));
  }
}

TEST_F(TargetPlanTest, WeightedPanicModeDrawsAmongEjectedTargets) {
  const std::vector<PlanCandidate> candidates = {Ejected(0, 1), Ejected(0, 3), Ejected(1, 1)};
  constexpr int kDraws = 20000;
  int first_is_1 = 0;
  for (int i = 0; i < kDraws; ++i) {
    const TargetPlan plan = Plan(candidates, PlanStrategy::kWeighted);
    ASSERT_TRUE(plan.panic);
    ASSERT_EQ(plan.order.size(), 3u);
    ASSERT_EQ(plan.order[2], 2);
    if (plan.order[0] == 1) ++first_is_1;
  }
  EXPECT_NEAR(first_is_1 / static_cast<double>(kDraws), 0.75, 0.02);
}

TEST_F(TargetPlanTest, DrainedTargetsComeAfterEveryOtherTargetByTierThenListOrder) {
  for (PlanStrategy strategy : {PlanStrategy::kFailover, PlanStrategy::kWeighted}) {
    for (int i = 0; i < 100; ++i) {
      const TargetPlan plan =
          Plan({Drained(1), Healthy(0, 1), Drained(0), Healthy(2, 1), Drained(0)}, strategy);
      ASSERT_THAT(Order(plan), ElementsAre(1, 3, 2, 4, 0));
      EXPECT_FALSE(plan.panic);
    }
  }
}

TEST_F(TargetPlanTest, DrainedTargetsFollowLocalHealth) {
  // A drained healthy target is still healthy: it serves rather than the ejected one.
  EXPECT_THAT(Order(Plan({Ejected(0), Drained(1)})), ElementsAre(1));
  // Drained and ejected: only in panic mode, after the other ejected targets.
  const TargetPlan panic = Plan({Drained(0, TargetState::kEjected), Ejected(1), CoolingDown(seconds(1))});
  EXPECT_THAT(Order(panic), ElementsAre(1, 0));
  EXPECT_TRUE(panic.panic);
  // Cooling down: never, drained or not.
  const TargetPlan cooling = Plan({Drained(0, TargetState::kCoolingDown), Healthy(1)});
  EXPECT_THAT(Order(cooling), ElementsAre(1));
}

TEST_F(TargetPlanTest, SameSeedGivesSamePlans) {
  const std::vector<PlanCandidate> candidates = {Healthy(0, 1), Healthy(0, 1), Healthy(0, 1),
                                                 Healthy(0, 1)};
  std::mt19937_64 a(99);
  std::mt19937_64 b(99);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(Order(PlanTargets(candidates, PlanStrategy::kWeighted, absl::BitGenRef(a))),
              Order(PlanTargets(candidates, PlanStrategy::kWeighted, absl::BitGenRef(b))));
  }
}

}  // namespace
}  // namespace llmesh::router
