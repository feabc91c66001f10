#include "proxy/failover/target_health.h"

#include <chrono>

#include "common/clock.h"
#include "gtest/gtest.h"

namespace llmesh::failover {
namespace {

using provider::FailureKind;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(TargetHealthTest, StateValuesMatchTheProviderStateMetric) {
  EXPECT_EQ(static_cast<int>(TargetState::kHealthy), 0);
  EXPECT_EQ(static_cast<int>(TargetState::kCoolingDown), 1);
  EXPECT_EQ(static_cast<int>(TargetState::kEjected), 2);
}

TEST(TargetHealthTest, IsHealthyWhenNew) {
  FakeClock clock;
  TargetHealth health;
  EXPECT_EQ(health.State(clock.Now()), TargetState::kHealthy);
  EXPECT_EQ(health.CooldownRemaining(clock.Now()), Duration::zero());
  EXPECT_EQ(health.EjectionRemaining(clock.Now()), Duration::zero());
}

TEST(TargetHealthTest, RateLimitHintCoolsTheTargetDown) {
  FakeClock clock;
  TargetHealth health;
  health.RecordRateLimit(clock.Now(), milliseconds(20000), 1.5);
  EXPECT_EQ(health.State(clock.Now()), TargetState::kCoolingDown);
  EXPECT_EQ(health.CooldownRemaining(clock.Now()), seconds(30));
  clock.Advance(seconds(30));
  EXPECT_EQ(health.State(clock.Now()), TargetState::kHealthy);
}

TEST(TargetHealthTest, RateLimitHintIsCappedByTheGivenCap) {
  FakeClock clock;
  TargetHealth health;
  health.RecordRateLimit(clock.Now(), milliseconds(600000), 1.0, seconds(120));
  EXPECT_EQ(health.CooldownRemaining(clock.Now()), seconds(120));
}

TEST(TargetHealthTest, FiveHealthFailuresEjectTheTarget) {
  FakeClock clock;
  TargetHealth health;
  const FailureKind kinds[] = {FailureKind::kConnect, FailureKind::kTimeout,
                               FailureKind::kRateLimited, FailureKind::kServerError,
                               FailureKind::kMalformed};
  for (FailureKind kind : kinds) {
    EXPECT_EQ(health.State(clock.Now()), TargetState::kHealthy);
    health.RecordOutcome(clock.Now(), kind);
  }
  EXPECT_EQ(health.State(clock.Now()), TargetState::kEjected);
  EXPECT_EQ(health.EjectionRemaining(clock.Now()), seconds(30));
  EXPECT_EQ(health.health_failures_total(), 5u);
  clock.Advance(seconds(30));
  EXPECT_EQ(health.State(clock.Now()), TargetState::kHealthy);
}

TEST(TargetHealthTest, KeyModelAndClientFailuresDoNotCountAgainstHealth) {
  FakeClock clock;
  TargetHealth health;
  const FailureKind kinds[] = {FailureKind::kAuth, FailureKind::kModelNotFound, FailureKind::kQuota,
                               FailureKind::kInvalidRequest, FailureKind::kContextLength};
  for (int round = 0; round < 20; ++round) {
    for (FailureKind kind : kinds) health.RecordOutcome(clock.Now(), kind);
  }
  EXPECT_EQ(health.State(clock.Now()), TargetState::kHealthy);
  EXPECT_EQ(health.outlier_detector().consecutive_failures(), 0u);
  EXPECT_EQ(health.outlier_detector().FailurePercentage(clock.Now()), 0.0);
  EXPECT_EQ(health.non_health_failures_total(), 100u);
  EXPECT_EQ(health.health_failures_total(), 0u);
  EXPECT_EQ(health.successes_total(), 0u);
}

TEST(TargetHealthTest, SkipKindFailureNeitherBreaksNorExtendsAStreak) {
  FakeClock clock;
  TargetHealth health;
  for (int i = 0; i < 4; ++i) health.RecordOutcome(clock.Now(), FailureKind::kReset);
  health.RecordOutcome(clock.Now(), FailureKind::kAuth);
  EXPECT_EQ(health.outlier_detector().consecutive_failures(), 4u);
  health.RecordOutcome(clock.Now(), FailureKind::kReset);
  EXPECT_EQ(health.State(clock.Now()), TargetState::kEjected);
}

TEST(TargetHealthTest, SuccessIsCountedAndBreaksTheStreak) {
  FakeClock clock;
  TargetHealth health;
  for (int i = 0; i < 4; ++i) health.RecordOutcome(clock.Now(), FailureKind::kOverloaded);
  health.RecordOutcome(clock.Now(), std::nullopt);
  EXPECT_EQ(health.successes_total(), 1u);
  EXPECT_EQ(health.outlier_detector().consecutive_failures(), 0u);
  health.RecordOutcome(clock.Now(), FailureKind::kOverloaded);
  EXPECT_EQ(health.State(clock.Now()), TargetState::kHealthy);
}

TEST(TargetHealthTest, CoolingDownWinsOverEjected) {
  FakeClock clock;
  TargetHealth health;
  for (int i = 0; i < 5; ++i) health.RecordOutcome(clock.Now(), FailureKind::kRateLimited);
  health.RecordRateLimit(clock.Now(), milliseconds(10000), 1.0);
  EXPECT_EQ(health.State(clock.Now()), TargetState::kCoolingDown);
  clock.Advance(seconds(10));
  EXPECT_EQ(health.State(clock.Now()), TargetState::kEjected);
  clock.Advance(seconds(20));
  EXPECT_EQ(health.State(clock.Now()), TargetState::kHealthy);
}

TEST(TargetHealthTest, UsesTheGivenOutlierSettings) {
  FakeClock clock;
  OutlierSettings settings;
  settings.consecutive_failures = 2;
  settings.base_ejection = seconds(10);
  TargetHealth health(settings);
  health.RecordOutcome(clock.Now(), FailureKind::kConnect);
  health.RecordOutcome(clock.Now(), FailureKind::kConnect);
  EXPECT_EQ(health.State(clock.Now()), TargetState::kEjected);
  EXPECT_EQ(health.EjectionRemaining(clock.Now()), seconds(10));
}

}  // namespace
}  // namespace llmesh::failover
