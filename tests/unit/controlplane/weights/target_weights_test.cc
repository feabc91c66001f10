#include "controlplane/weights/target_weights.h"

#include <chrono>
#include <optional>
#include <vector>

#include "common/clock.h"
#include "gtest/gtest.h"

namespace llmesh::control {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const TargetKey kA{"alpha", "cheap-model"};
const TargetKey kB{"beta", "dear-model"};
const TargetKey kC{"gamma", "other-model"};

class PlanTierTest : public ::testing::Test {
 protected:
  TargetStats Healthy(double cost) const {
    TargetStats s;
    s.requests = 1000;
    s.successes = 1000;
    s.cost_per_success_usd = cost;
    s.p95_latency = milliseconds(800);
    s.p95_ttft = milliseconds(300);
    s.updated_at = clock_.Now();
    return s;
  }

  std::vector<TargetPlan> Plan(const std::vector<TierInput::Target>& targets,
                               const std::vector<std::optional<double>>& current) const {
    return PlanTier(targets, current, slo_, telemetry_, options_, clock_.Now());
  }

  FakeClock clock_;
  RouteSlo slo_;
  WeightOptions options_;
  TelemetryWindow telemetry_;
  std::vector<TierInput::Target> ab_{{kA, 1}, {kB, 1}};
};

TEST_F(PlanTierTest, CheapestMeetingSloTakesTheRestAndOthersProbe) {
  telemetry_[kA] = Healthy(0.001);
  telemetry_[kB] = Healthy(0.003);
  const auto plan = Plan(ab_, {0.5, 0.5});
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_DOUBLE_EQ(plan[0].share, 0.98);
  EXPECT_EQ(plan[0].reason, WeightReason::kCheapest);
  EXPECT_EQ(plan[0].reason_text, "cheapest meeting SLO ($0.001/success)");
  EXPECT_DOUBLE_EQ(plan[1].share, 0.02);
  EXPECT_EQ(plan[1].reason, WeightReason::kCostlier);
  EXPECT_EQ(plan[1].reason_text, "meets SLO, $0.003/success > $0.001/success of alpha/cheap-model: probe floor");
}

TEST_F(PlanTierTest, ErrorRateAboveSloDropsToProbeFloor) {
  telemetry_[kA] = Healthy(0.001);
  telemetry_[kA].errors = 100;
  telemetry_[kA].successes = 900;
  telemetry_[kB] = Healthy(0.003);
  const auto plan = Plan(ab_, {0.98, 0.02});
  EXPECT_DOUBLE_EQ(plan[0].share, 0.02);
  EXPECT_EQ(plan[0].reason, WeightReason::kSloBreach);
  EXPECT_EQ(plan[0].reason_text, "error rate 10.0% > SLO 5.0%: probe floor");
  EXPECT_DOUBLE_EQ(plan[1].share, 0.98);
  EXPECT_EQ(plan[1].reason, WeightReason::kCheapest);
}

TEST_F(PlanTierTest, LatencyTtftAndRateLimitBreachesAreAllNamed) {
  slo_.max_p95_latency = milliseconds(2000);
  slo_.max_p95_ttft = milliseconds(500);
  telemetry_[kA] = Healthy(0.001);
  telemetry_[kA].p95_latency = milliseconds(2300);
  telemetry_[kA].p95_ttft = milliseconds(900);
  telemetry_[kA].rate_limited = 120;
  telemetry_[kB] = Healthy(0.003);
  const auto plan = Plan(ab_, {0.5, 0.5});
  EXPECT_EQ(plan[0].reason_text,
            "p95 2300ms > SLO 2000ms, p95 TTFT 900ms > SLO 500ms, rate-limited 12.0% > SLO 10.0%: probe floor");
}

TEST_F(PlanTierTest, BoundsAreExceededOnlyWhenStrictlyGreater) {
  slo_.max_p95_latency = milliseconds(2000);
  telemetry_[kA] = Healthy(0.001);
  telemetry_[kA].p95_latency = milliseconds(2000);
  telemetry_[kA].errors = 50;  // Exactly 5%.
  telemetry_[kA].rate_limited = 100;  // Exactly 10%.
  telemetry_[kB] = Healthy(0.003);
  EXPECT_EQ(Plan(ab_, {0.5, 0.5})[0].reason, WeightReason::kCheapest);
}

TEST_F(PlanTierTest, TooFewSamplesKeepStaticThenPreviousWeight) {
  telemetry_[kA] = Healthy(0.001);
  telemetry_[kA].requests = 12;
  telemetry_[kA].errors = 12;
  telemetry_[kB] = Healthy(0.003);
  auto plan = Plan({{kA, 3}, {kB, 1}}, {std::nullopt, 0.4});
  EXPECT_DOUBLE_EQ(plan[0].share, 0.75);
  EXPECT_EQ(plan[0].reason, WeightReason::kInsufficientSamples);
  EXPECT_EQ(plan[0].reason_text, "insufficient samples (12 < 50): static weight");
  EXPECT_DOUBLE_EQ(plan[1].share, 0.25);

  plan = Plan(ab_, {0.6, 0.4});
  EXPECT_DOUBLE_EQ(plan[0].share, 0.6);
  EXPECT_EQ(plan[0].reason_text, "insufficient samples (12 < 50): previous weight");
  EXPECT_DOUBLE_EQ(plan[1].share, 0.4);
}

TEST_F(PlanTierTest, StaleOrMissingTelemetryIsIgnored) {
  telemetry_[kA] = Healthy(0.001);
  telemetry_[kB] = Healthy(0.003);
  clock_.Advance(seconds(60));
  // Exactly stale_after old: still fresh.
  EXPECT_EQ(Plan(ab_, {0.5, 0.5})[0].reason, WeightReason::kCheapest);
  clock_.Advance(seconds(1));
  telemetry_[kB].updated_at = clock_.Now();
  const auto plan = Plan(ab_, {0.7, 0.3});
  EXPECT_DOUBLE_EQ(plan[0].share, 0.7);
  EXPECT_EQ(plan[0].reason, WeightReason::kStale);
  EXPECT_EQ(plan[0].reason_text, "stale input (no update for 61s > 60s): previous weight");
  EXPECT_DOUBLE_EQ(plan[1].share, 0.3);
  EXPECT_EQ(plan[1].reason, WeightReason::kCheapest);

  telemetry_.erase(kA);
  EXPECT_EQ(Plan(ab_, {std::nullopt, 0.3})[0].reason_text, "no telemetry: static weight");
}

TEST_F(PlanTierTest, NearlyEqualCostsShareTheCheapestPlace) {
  telemetry_[kA] = Healthy(0.00100);
  telemetry_[kB] = Healthy(0.00101);  // Within the 2% tolerance.
  telemetry_[kC] = Healthy(0.00200);
  const auto plan = Plan({{kA, 1}, {kB, 1}, {kC, 1}}, {0.3, 0.3, 0.4});
  EXPECT_DOUBLE_EQ(plan[0].share, 0.49);
  EXPECT_DOUBLE_EQ(plan[1].share, 0.49);
  EXPECT_EQ(plan[1].reason_text, "cheapest meeting SLO, tied with 1 ($0.00101/success)");
  EXPECT_DOUBLE_EQ(plan[2].share, 0.02);
}

TEST_F(PlanTierTest, UnknownCostRanksAfterKnownCost) {
  telemetry_[kA] = Healthy(-1);
  telemetry_[kB] = Healthy(0.003);
  const auto plan = Plan(ab_, {0.5, 0.5});
  EXPECT_DOUBLE_EQ(plan[0].share, 0.02);
  EXPECT_EQ(plan[0].reason_text, "meets SLO, unknown cost > $0.003/success of beta/dear-model: probe floor");
  EXPECT_DOUBLE_EQ(plan[1].share, 0.98);
}

TEST_F(PlanTierTest, FrozenTargetsTakeTheShareOfBreachingOnes) {
  telemetry_[kA] = Healthy(0.001);
  telemetry_[kA].errors = 500;
  telemetry_[kB] = Healthy(0.003);
  telemetry_[kB].requests = 10;
  const auto plan = Plan(ab_, {0.9, 0.1});
  EXPECT_DOUBLE_EQ(plan[0].share, 0.02);
  EXPECT_DOUBLE_EQ(plan[1].share, 0.98);
  EXPECT_EQ(plan[1].reason_text,
            "insufficient samples (10 < 50): previous weight, plus the share of targets breaching SLO");
}

TEST_F(PlanTierTest, WhenEveryTargetBreachesTheTierFallsBackToStaticShares) {
  telemetry_[kA] = Healthy(0.001);
  telemetry_[kA].errors = 500;
  telemetry_[kB] = Healthy(0.003);
  telemetry_[kB].rate_limited = 500;
  const auto plan = Plan({{kA, 1}, {kB, 3}}, {0.5, 0.5});
  EXPECT_DOUBLE_EQ(plan[0].share, 0.25);
  EXPECT_EQ(plan[0].reason, WeightReason::kNoTargetMeetsSlo);
  EXPECT_EQ(plan[0].reason_text, "error rate 50.0% > SLO 5.0%; no target meets SLO: static weight");
  EXPECT_DOUBLE_EQ(plan[1].share, 0.75);
}

TEST_F(PlanTierTest, FloorsThatOverfillTheTierAreScaledToFit) {
  options_.probe_floor = 0.4;
  telemetry_[kA] = Healthy(0.001);
  telemetry_[kB] = Healthy(0.002);
  telemetry_[kC] = Healthy(0.003);
  const auto plan = Plan({{kA, 1}, {kB, 1}, {kC, 1}}, {0.3, 0.3, 0.4});
  // Cheapest kept at the floor too, then 0.4/1.2 each.
  EXPECT_DOUBLE_EQ(plan[0].share + plan[1].share + plan[2].share, 1.0);
  EXPECT_DOUBLE_EQ(plan[0].share, plan[2].share);
}

TEST(StaticSharesTest, AllZeroStaticWeightsMeanEqualShares) {
  EXPECT_EQ(StaticShares({{kA, 0}, {kB, 0}}), (std::vector<double>{0.5, 0.5}));
  EXPECT_EQ(StaticShares({{kA, 1}, {kB, 3}}), (std::vector<double>{0.25, 0.75}));
}

}  // namespace
}  // namespace llmesh::control
