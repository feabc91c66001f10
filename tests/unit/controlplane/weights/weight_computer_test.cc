#include "controlplane/weights/weight_computer.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/clock.h"
#include "gtest/gtest.h"

namespace llmesh::control {
namespace {

using std::chrono::seconds;

const TargetKey kA{"alpha", "cheap-model"};
const TargetKey kB{"beta", "dear-model"};
const TargetKey kC{"gamma", "other-model"};
constexpr auto kInterval = seconds(5);

uint32_t Sum(const std::vector<TargetWeight>& weights) {
  uint32_t sum = 0;
  for (const auto& w : weights) sum += w.weight;
  return sum;
}

class WeightComputerTest : public ::testing::Test {
 protected:
  void SetUp() override { Reset(); }

  void Reset(const WeightOptions& options = {}) {
    auto computer = WeightComputer::Create(options, clock_);
    ASSERT_TRUE(computer.ok()) << computer.status();
    computer_.emplace(*std::move(computer));
  }

  TargetStats Healthy(double cost) const {
    TargetStats s;
    s.requests = 1000;
    s.successes = 1000;
    s.cost_per_success_usd = cost;
    s.updated_at = clock_.Now();
    return s;
  }

  TargetStats Failing(double cost) const {
    TargetStats s = Healthy(cost);
    s.errors = 100;  // 10% errors: above the default 5% SLO.
    s.successes = 900;
    return s;
  }

  TierInput Tier(std::string route = "chat", uint32_t priority = 0) const {
    TierInput tier;
    tier.route = std::move(route);
    tier.priority = priority;
    tier.targets = {{kA, 1}, {kB, 1}};
    return tier;
  }

  // One interval later, with fresh telemetry.
  std::vector<TierAssignment> Step(const std::vector<TierInput>& tiers, const TargetStats& a, const TargetStats& b,
                                   const std::vector<WeightOverride>& overrides = {}) {
    clock_.Advance(kInterval);
    TelemetryWindow telemetry;
    telemetry[kA] = a;
    telemetry[kA].updated_at = clock_.Now();
    telemetry[kB] = b;
    telemetry[kB].updated_at = clock_.Now();
    auto out = computer_->Compute(tiers, telemetry, overrides);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : std::vector<TierAssignment>{};
  }

  TierAssignment StepOne(const TargetStats& a, const TargetStats& b, const std::vector<WeightOverride>& overrides = {}) {
    auto out = Step({Tier()}, a, b, overrides);
    return out.empty() ? TierAssignment{} : out[0];
  }

  // Runs intervals until A's published weight equals `weight`; returns how many it took (at
  // most `limit`, else limit + 1).
  int IntervalsUntilPublished(uint32_t weight, const TargetStats& a, const TargetStats& b, int limit = 40) {
    for (int i = 1; i <= limit; ++i) {
      if (StepOne(a, b).published[0].weight == weight) return i;
    }
    return limit + 1;
  }

  FakeClock clock_;
  std::optional<WeightComputer> computer_;
};

TEST_F(WeightComputerTest, FirstIntervalStartsFromStaticSharesAndPublishes) {
  const TierAssignment t = StepOne(Healthy(0.001), Healthy(0.003));
  EXPECT_TRUE(t.publish);
  // From 5000/5000 toward 9800/200: B may lose 25% of 5000 (EWMA wanted 2400).
  EXPECT_EQ(t.weights[0].weight, 6250u);
  EXPECT_EQ(t.weights[0].goal, 9800u);
  EXPECT_EQ(t.weights[1].weight, 3750u);
  EXPECT_EQ(t.published, t.weights);
}

TEST_F(WeightComputerTest, CheaperHealthyTargetTakesMostTraffic) {
  // B falls ×0.75 per interval while the step bound binds (B > 0.04), then the EWMA halves the
  // gap, and the tier settles on its goal at the 12th interval (see the smoothing rule).
  EXPECT_EQ(IntervalsUntilPublished(9800, Healthy(0.001), Healthy(0.003)), 12);
  const TierAssignment t = StepOne(Healthy(0.001), Healthy(0.003));
  EXPECT_FALSE(t.publish);  // Nothing changed.
  EXPECT_EQ(t.published[0].weight, 9800u);
  EXPECT_EQ(t.published[0].reason_text, "cheapest meeting SLO ($0.001/success)");
  EXPECT_EQ(t.published[1].weight, 200u);
  EXPECT_EQ(t.published[1].reason, WeightReason::kCostlier);
}

TEST_F(WeightComputerTest, DegradedCheapTargetDropsToTheProbeFloorInOneInterval) {
  ASSERT_EQ(IntervalsUntilPublished(9800, Healthy(0.001), Healthy(0.003)), 12);
  const TierAssignment t = StepOne(Failing(0.001), Healthy(0.003));
  EXPECT_TRUE(t.publish);
  EXPECT_EQ(t.published[0].weight, 200u);
  EXPECT_EQ(t.published[0].reason, WeightReason::kSloBreach);
  EXPECT_EQ(t.published[0].reason_text, "error rate 10.0% > SLO 5.0%: probe floor");
  EXPECT_EQ(t.published[1].weight, 9800u);
  EXPECT_EQ(t.published[1].reason, WeightReason::kCheapest);
  EXPECT_FALSE(StepOne(Failing(0.001), Healthy(0.003)).publish);  // It stays there.
}

TEST_F(WeightComputerTest, SlowCheapTargetDropsToTheProbeFloorInOneInterval) {
  ASSERT_EQ(IntervalsUntilPublished(9800, Healthy(0.001), Healthy(0.003)), 12);
  TierInput tier = Tier();
  tier.slo.max_p95_latency = std::chrono::milliseconds(2000);
  TargetStats slow = Healthy(0.001);
  slow.p95_latency = std::chrono::milliseconds(2300);
  for (int i = 1; i <= 3; ++i) {
    const auto out = Step({tier}, slow, Healthy(0.003));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].weights[0].reason_text, "p95 2300ms > SLO 2000ms: probe floor");
    EXPECT_EQ(out[0].published[0].weight, 200u) << "interval " << i;
  }
}

TEST_F(WeightComputerTest, RecoveredCheapTargetTakesTheTrafficBackWithinTheStepBound) {
  ASSERT_EQ(IntervalsUntilPublished(9800, Healthy(0.001), Healthy(0.003)), 12);
  ASSERT_EQ(IntervalsUntilPublished(200, Failing(0.001), Healthy(0.003)), 1);
  // B, healthy, is eased away from: it falls from 0.98 by ×0.75 per interval while the bound
  // binds (0.98×0.75^11 = 0.0414 after 11, 0.0310 after 12), then the EWMA halves the gap to
  // 0.02 (0.0255, 0.0228) and the gap 0.0028 ≤ settle_epsilon lands it at the 15th.
  EXPECT_EQ(IntervalsUntilPublished(9800, Healthy(0.001), Healthy(0.003)), 15);
  EXPECT_EQ(StepOne(Healthy(0.001), Healthy(0.003)).published[0].reason, WeightReason::kCheapest);
}

TEST_F(WeightComputerTest, StepBoundIsNeverExceededAndSumsAreExact) {
  std::mt19937 rng(4);  // Fixed seed: the same scenario on every run.
  std::uniform_int_distribution<int> pick(0, 5);
  std::vector<TargetWeight> previous = StepOne(Healthy(0.001), Healthy(0.003)).weights;
  for (int i = 0; i < 300; ++i) {
    TargetStats a = Healthy(0.001);
    TargetStats b = Healthy(0.003);
    switch (pick(rng)) {
      case 0: a = Failing(0.001); break;
      case 1: b = Failing(0.003); break;
      case 2: a.requests = 3; break;
      case 3: a = Failing(0.001); b = Failing(0.003); break;
      default: break;
    }
    const TierAssignment t = StepOne(a, b);
    ASSERT_EQ(Sum(t.weights), kWeightTotal);
    ASSERT_EQ(Sum(t.published), kWeightTotal);
    // Leaving a breaching target is the one unbounded move: the tier lands on its goals.
    const bool leaving = std::any_of(t.weights.begin(), t.weights.end(), [&](const TargetWeight& tw) {
      return tw.reason == WeightReason::kSloBreach && previous[&tw - t.weights.data()].weight > tw.goal;
    });
    for (size_t k = 0; k < t.weights.size(); ++k) {
      if (leaving) {
        ASSERT_EQ(t.weights[k].weight, t.weights[k].goal) << "interval " << i << " target " << k;
        continue;
      }
      const double prev = previous[k].weight;
      const double bound = 0.25 * std::max({prev, static_cast<double>(t.weights[k].goal), 200.0});
      const double moved = std::abs(static_cast<double>(t.weights[k].weight) - prev);
      // Two basis points: each side of the comparison is rounded to a whole basis point.
      ASSERT_LE(moved, bound + 2) << "interval " << i << " target " << k;
    }
    previous = t.weights;
  }
}

TEST_F(WeightComputerTest, HysteresisHoldsSmallMovesAndPublishesLargerOnes) {
  WeightOptions options;
  options.ewma_alpha = 0.04;
  options.settle_epsilon = 0;
  Reset(options);
  TierAssignment t = StepOne(Healthy(0.001), Healthy(0.003));
  ASSERT_TRUE(t.publish);
  ASSERT_EQ(t.published[0].weight, 5192u);  // 5000 + 0.04 × 4800.
  // 5376: 184 above the published 5192, within 5% of 5376 (268): held.
  t = StepOne(Healthy(0.001), Healthy(0.003));
  EXPECT_FALSE(t.publish);
  EXPECT_EQ(t.weights[0].weight, 5376u);
  EXPECT_EQ(t.published[0].weight, 5192u);
  EXPECT_EQ(t.published[1].weight, 4808u);
  // 5553: 361 above 5192, more than 5% of 5553 (277): published.
  t = StepOne(Healthy(0.001), Healthy(0.003));
  EXPECT_TRUE(t.publish);
  EXPECT_EQ(t.published[0].weight, 5553u);
}

TEST_F(WeightComputerTest, ReasonChangePublishesEvenASmallMove) {
  ASSERT_EQ(IntervalsUntilPublished(9800, Healthy(0.001), Healthy(0.003)), 12);
  TargetStats few = Healthy(0.001);
  few.requests = 12;
  const TierAssignment t = StepOne(few, Healthy(0.003));
  EXPECT_TRUE(t.publish);
  EXPECT_EQ(t.weights[0].weight, 9800u);
  EXPECT_EQ(t.weights[0].reason_text, "insufficient samples (12 < 50): previous weight");
}

TEST_F(WeightComputerTest, TooFewSamplesKeepTheStaticWeight) {
  TargetStats few = Failing(0.001);
  few.requests = 49;
  for (int i = 0; i < 3; ++i) {
    const TierAssignment t = StepOne(few, Healthy(0.003));
    EXPECT_EQ(t.weights[0].weight, 5000u);
    EXPECT_EQ(t.weights[1].weight, 5000u);
    EXPECT_EQ(t.weights[0].reason_text,
              i == 0 ? "insufficient samples (49 < 50): static weight" : "insufficient samples (49 < 50): previous weight");
  }
}

TEST_F(WeightComputerTest, StaleInputHoldsTheWeightUntilFreshDataArrives) {
  ASSERT_EQ(IntervalsUntilPublished(9800, Healthy(0.001), Healthy(0.003)), 12);
  TargetStats stale_failing = Failing(0.001);
  stale_failing.updated_at = clock_.Now();
  for (int i = 0; i < 13; ++i) {  // 65 s: past the 60 s expiry from the 13th interval on.
    clock_.Advance(kInterval);
    TelemetryWindow telemetry{{kA, stale_failing}, {kB, Healthy(0.003)}};
    auto out = computer_->Compute({Tier()}, telemetry, {});
    ASSERT_TRUE(out.ok());
    const TargetWeight& a = (*out)[0].weights[0];
    if (i < 12) {
      EXPECT_EQ(a.reason, WeightReason::kSloBreach) << i;
    } else {
      EXPECT_EQ(a.reason, WeightReason::kStale);
      EXPECT_EQ(a.reason_text, "stale input (no update for 65s > 60s): previous weight");
      EXPECT_EQ(a.weight, a.goal);  // Frozen where it was.
    }
  }
}

TEST_F(WeightComputerTest, OverrideAppliesAtOnceAndExpires) {
  ASSERT_EQ(IntervalsUntilPublished(9800, Healthy(0.001), Healthy(0.003)), 12);
  WeightOverride pin{WeightOverride::Kind::kWeight, "", kB, 3000, clock_.Now() + seconds(10), "incident 4711"};
  TierAssignment t = StepOne(Healthy(0.001), Healthy(0.003), {pin});
  EXPECT_TRUE(t.publish);
  EXPECT_EQ(t.weights[0].weight, 7000u);
  EXPECT_EQ(t.weights[1].weight, 3000u);
  EXPECT_EQ(t.weights[1].reason, WeightReason::kOverride);
  EXPECT_EQ(t.weights[1].reason_text, "override 3000 bp (operator, 5s left): incident 4711");
  // At expires_at the override no longer applies; the computation resumes where it was.
  t = StepOne(Healthy(0.001), Healthy(0.003), {pin});
  EXPECT_TRUE(t.publish);
  EXPECT_EQ(t.weights[0].weight, 9800u);
  EXPECT_EQ(t.weights[1].weight, 200u);
  EXPECT_EQ(t.weights[1].reason, WeightReason::kCostlier);
}

TEST_F(WeightComputerTest, DrainSendsTheTierToTheOthersAndAllDrainedIsEmpty) {
  const MonoTime until = clock_.Now() + seconds(60);
  WeightOverride drain_a{WeightOverride::Kind::kDrain, "chat", kA, 0, until, ""};
  TierAssignment t = StepOne(Healthy(0.001), Healthy(0.003), {drain_a});
  EXPECT_EQ(t.weights[0].weight, 0u);
  EXPECT_EQ(t.weights[0].reason, WeightReason::kDrain);
  EXPECT_EQ(t.weights[0].reason_text, "drain (operator, 55s left)");
  EXPECT_EQ(t.weights[1].weight, 10000u);

  WeightOverride drain_b{WeightOverride::Kind::kDrain, "", kB, 0, until, ""};
  t = StepOne(Healthy(0.001), Healthy(0.003), {drain_a, drain_b});
  EXPECT_EQ(t.weights[0].weight, 0u);
  EXPECT_EQ(t.weights[1].weight, 0u);
}

TEST_F(WeightComputerTest, RouteSpecificOverrideBeatsGlobalAndOtherRoutesAreUntouched) {
  const MonoTime until = clock_.Now() + seconds(60);
  const std::vector<WeightOverride> overrides{
      {WeightOverride::Kind::kWeight, "", kA, 1000, until, ""},
      {WeightOverride::Kind::kWeight, "chat", kA, 4000, until, ""},
      {WeightOverride::Kind::kWeight, "embed", kB, 2500, until, ""},
  };
  const auto out = Step({Tier("chat"), Tier("summarise")}, Healthy(0.001), Healthy(0.003), overrides);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].route, "chat");
  EXPECT_EQ(out[0].weights[0].weight, 4000u);
  EXPECT_EQ(out[0].weights[1].weight, 6000u);
  EXPECT_EQ(out[1].route, "summarise");
  EXPECT_EQ(out[1].weights[0].weight, 1000u);
  EXPECT_EQ(out[1].weights[1].weight, 9000u);
}

TEST_F(WeightComputerTest, SameInputsGiveSameOutputsInAnyInputOrder) {
  FakeClock other_clock;
  auto other = WeightComputer::Create({}, other_clock);
  ASSERT_TRUE(other.ok());
  TierInput reversed = Tier();
  std::reverse(reversed.targets.begin(), reversed.targets.end());
  TierInput tier1 = Tier("chat", 1);
  tier1.targets.push_back({kC, 2});
  for (int i = 0; i < 20; ++i) {
    const TargetStats a = i < 8 ? Healthy(0.001) : Failing(0.001);
    const auto mine = Step({Tier(), tier1}, a, Healthy(0.003));
    other_clock.Advance(kInterval);
    TelemetryWindow telemetry{{kB, Healthy(0.003)}, {kA, a}};
    telemetry[kA].updated_at = telemetry[kB].updated_at = other_clock.Now();
    auto theirs = other->Compute({tier1, reversed}, telemetry, {});
    ASSERT_TRUE(theirs.ok());
    ASSERT_EQ(mine, *theirs) << "interval " << i;
  }
}

TEST_F(WeightComputerTest, TiersAreIndependent) {
  TierInput tier1 = Tier("chat", 1);
  tier1.targets = {{kC, 1}};
  for (int i = 0; i < 20; ++i) {
    const auto out = Step({Tier("chat", 0), tier1}, Failing(0.001), Healthy(0.003));
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(Sum(out[0].weights), kWeightTotal);
    ASSERT_EQ(out[1].priority, 1u);
    EXPECT_EQ(out[1].weights[0].weight, kWeightTotal);
    EXPECT_EQ(out[1].weights[0].reason_text, i == 0 ? "no telemetry: static weight" : "no telemetry: previous weight");
  }
}

TEST_F(WeightComputerTest, NewTargetInAKnownTierEntersFromZeroWithinTheStepBound) {
  ASSERT_EQ(IntervalsUntilPublished(9800, Healthy(0.001), Healthy(0.003)), 12);
  TierInput tier = Tier();
  tier.targets.push_back({kC, 1});
  const auto out = Step({tier}, Healthy(0.001), Healthy(0.003));
  ASSERT_EQ(out[0].weights.size(), 3u);
  EXPECT_TRUE(out[0].publish);
  // C has no telemetry and no weight yet: its goal is its static share, 1/3, and it may rise
  // by at most 25% of that.
  EXPECT_EQ(out[0].weights[2].goal, 3333u);
  EXPECT_EQ(out[0].weights[2].weight, 833u);
  EXPECT_EQ(Sum(out[0].weights), kWeightTotal);
}

TEST_F(WeightComputerTest, EmptyTierIsPublishedOnceAndEmpty) {
  TierInput empty = Tier();
  empty.targets.clear();
  auto out = Step({empty}, Healthy(0.001), Healthy(0.003));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].publish);
  EXPECT_TRUE(out[0].weights.empty());
  out = Step({empty}, Healthy(0.001), Healthy(0.003));
  EXPECT_FALSE(out[0].publish);
}

TEST_F(WeightComputerTest, InvalidInputIsRejectedWithoutChangingState) {
  TierInput dup = Tier();
  dup.targets.push_back({kA, 1});
  auto out = computer_->Compute({dup}, {}, {});
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(), "route \"chat\" priority 0: target alpha/cheap-model listed twice");
  out = computer_->Compute({Tier(), Tier()}, {}, {});
  EXPECT_EQ(out.status().message(), "route \"chat\" priority 0: tier listed twice");
  out = computer_->Compute({Tier()}, {}, {{WeightOverride::Kind::kWeight, "", kA, 10001, clock_.Now(), ""}});
  EXPECT_EQ(out.status().message(), "override for alpha/cheap-model: weight 10001 exceeds 10000");
  EXPECT_TRUE(StepOne(Healthy(0.001), Healthy(0.003)).publish);  // Still a first interval.
}

TEST(WeightOptionsTest, OutOfRangeOptionsAreNamed) {
  WeightOptions options;
  options.ewma_alpha = 0;
  EXPECT_EQ(ValidateWeightOptions(options).message(), "weight options: ewma_alpha: 0 is not in (0, 1]");
  options = {};
  options.probe_floor = 1;
  FakeClock clock;
  EXPECT_EQ(WeightComputer::Create(options, clock).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateWeightOptions({}).ok());
}

}  // namespace
}  // namespace llmesh::control
