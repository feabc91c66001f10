#include "proxy/failover/outlier_detector.h"

#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "gtest/gtest.h"

namespace llmesh::failover {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

void FailTimes(OutlierDetector& detector, MonoTime now, int times) {
  for (int i = 0; i < times; ++i) detector.RecordFailure(now);
}

// Settings that only eject on the failure percentage.
OutlierSettings PercentageOnly() {
  OutlierSettings settings;
  settings.consecutive_failures = 0;
  return settings;
}

TEST(OutlierDetectorTest, IsNotEjectedBeforeAnyFailure) {
  FakeClock clock;
  OutlierDetector detector;
  EXPECT_FALSE(detector.Ejected(clock.Now()));
  EXPECT_EQ(detector.EjectionRemaining(clock.Now()), Duration::zero());
  EXPECT_EQ(detector.ejections_total(), 0u);
  EXPECT_EQ(detector.FailurePercentage(clock.Now()), 0.0);
  EXPECT_EQ(detector.EjectionMultiplier(clock.Now()), 0u);
}

TEST(OutlierDetectorTest, EjectsAfterFiveConsecutiveFailures) {
  FakeClock clock;
  OutlierDetector detector;
  FailTimes(detector, clock.Now(), 4);
  EXPECT_FALSE(detector.Ejected(clock.Now()));
  EXPECT_EQ(detector.consecutive_failures(), 4u);

  detector.RecordFailure(clock.Now());
  EXPECT_TRUE(detector.Ejected(clock.Now()));
  EXPECT_EQ(detector.EjectionRemaining(clock.Now()), seconds(30));
  EXPECT_EQ(detector.ejections_total(), 1u);
  EXPECT_EQ(detector.EjectionMultiplier(clock.Now()), 1u);
  // The streak that caused the ejection is spent.
  EXPECT_EQ(detector.consecutive_failures(), 0u);
}

TEST(OutlierDetectorTest, SuccessBreaksTheStreak) {
  FakeClock clock;
  OutlierDetector detector;
  FailTimes(detector, clock.Now(), 4);
  detector.RecordSuccess(clock.Now());
  EXPECT_EQ(detector.consecutive_failures(), 0u);
  FailTimes(detector, clock.Now(), 4);
  EXPECT_FALSE(detector.Ejected(clock.Now()));
  detector.RecordFailure(clock.Now());
  EXPECT_TRUE(detector.Ejected(clock.Now()));
}

TEST(OutlierDetectorTest, EjectionEndsAfterBaseTime) {
  FakeClock clock;
  OutlierDetector detector;
  FailTimes(detector, clock.Now(), 5);
  clock.Advance(seconds(30) - nanoseconds(1));
  EXPECT_TRUE(detector.Ejected(clock.Now()));
  EXPECT_EQ(detector.EjectionRemaining(clock.Now()), nanoseconds(1));
  clock.Advance(nanoseconds(1));
  EXPECT_FALSE(detector.Ejected(clock.Now()));
  EXPECT_EQ(detector.EjectionRemaining(clock.Now()), Duration::zero());
}

TEST(OutlierDetectorTest, EachEjectionInARowLastsOneBaseLonger) {
  FakeClock clock;
  OutlierDetector detector;
  for (int n = 1; n <= 4; ++n) {
    FailTimes(detector, clock.Now(), 5);
    ASSERT_TRUE(detector.Ejected(clock.Now()));
    EXPECT_EQ(detector.EjectionRemaining(clock.Now()), seconds(30) * n) << "ejection " << n;
    EXPECT_EQ(detector.EjectionMultiplier(clock.Now()), static_cast<uint32_t>(n));
    clock.Advance(detector.EjectionRemaining(clock.Now()));
  }
  EXPECT_EQ(detector.ejections_total(), 4u);
}

TEST(OutlierDetectorTest, EjectionIsCappedAtMaxEjection) {
  FakeClock clock;
  OutlierDetector detector;
  const std::vector<int> expected_seconds = {30,  60,  90,  120, 150, 180,
                                             210, 240, 270, 300, 300, 300};
  for (int expected : expected_seconds) {
    FailTimes(detector, clock.Now(), 5);
    ASSERT_TRUE(detector.Ejected(clock.Now()));
    EXPECT_EQ(detector.EjectionRemaining(clock.Now()), seconds(expected));
    clock.Advance(detector.EjectionRemaining(clock.Now()));
  }
  // The multiplier stops at max/base, so recovery from a long bad spell is bounded too.
  EXPECT_EQ(detector.EjectionMultiplier(clock.Now()), 10u);
}

TEST(OutlierDetectorTest, MaxEjectionBelowBaseIsRaisedToBase) {
  FakeClock clock;
  OutlierSettings settings;
  settings.base_ejection = seconds(30);
  settings.max_ejection = seconds(10);
  OutlierDetector detector(settings);
  FailTimes(detector, clock.Now(), 5);
  EXPECT_EQ(detector.EjectionRemaining(clock.Now()), seconds(30));
  clock.Advance(seconds(30));
  FailTimes(detector, clock.Now(), 5);
  EXPECT_EQ(detector.EjectionRemaining(clock.Now()), seconds(30));
}

TEST(OutlierDetectorTest, MultiplierDecaysByOneForEachBaseEjectionSpentHealthy) {
  FakeClock clock;
  OutlierDetector detector;
  // Two ejections in a row: multiplier 2 (60 s).
  FailTimes(detector, clock.Now(), 5);
  clock.Advance(seconds(30));
  FailTimes(detector, clock.Now(), 5);
  ASSERT_EQ(detector.EjectionRemaining(clock.Now()), seconds(60));
  clock.Advance(seconds(60));

  EXPECT_EQ(detector.EjectionMultiplier(clock.Now()), 2u);
  clock.Advance(seconds(30) - nanoseconds(1));
  EXPECT_EQ(detector.EjectionMultiplier(clock.Now()), 2u);
  clock.Advance(nanoseconds(1));
  EXPECT_EQ(detector.EjectionMultiplier(clock.Now()), 1u);

  // Decayed to 1, so the next ejection is the second step again: 60 s, not 90 s.
  FailTimes(detector, clock.Now(), 5);
  EXPECT_EQ(detector.EjectionRemaining(clock.Now()), seconds(60));
  EXPECT_EQ(detector.EjectionMultiplier(clock.Now()), 2u);
}

TEST(OutlierDetectorTest, FullyDecayedMultiplierStartsOverAtBaseEjection) {
  FakeClock clock;
  OutlierDetector detector;
  FailTimes(detector, clock.Now(), 5);
  clock.Advance(seconds(30));
  FailTimes(detector, clock.Now(), 5);
  clock.Advance(seconds(60));
  clock.Advance(seconds(60));  // Two base periods healthy: 2 -> 0.
  EXPECT_EQ(detector.EjectionMultiplier(clock.Now()), 0u);
  FailTimes(detector, clock.Now(), 5);
  EXPECT_EQ(detector.EjectionRemaining(clock.Now()), seconds(30));
}

TEST(OutlierDetectorTest, MultiplierDoesNotDecayWhileEjected) {
  FakeClock clock;
  OutlierSettings settings;
  settings.base_ejection = seconds(30);
  OutlierDetector detector(settings);
  for (int n = 0; n < 3; ++n) {
    FailTimes(detector, clock.Now(), 5);
    clock.Advance(detector.EjectionRemaining(clock.Now()));
  }
  FailTimes(detector, clock.Now(), 5);
  ASSERT_EQ(detector.EjectionRemaining(clock.Now()), seconds(120));
  clock.Advance(seconds(119));
  EXPECT_EQ(detector.EjectionMultiplier(clock.Now()), 4u);
}

TEST(OutlierDetectorTest, FailuresWhileEjectedCountButDoNotEjectAgain) {
  FakeClock clock;
  OutlierDetector detector;
  FailTimes(detector, clock.Now(), 5);
  clock.Advance(seconds(1));
  // Panic-mode probes and attempts that were in flight when the ejection began.
  FailTimes(detector, clock.Now(), 10);
  EXPECT_EQ(detector.ejections_total(), 1u);
  EXPECT_EQ(detector.consecutive_failures(), 10u);
  EXPECT_EQ(detector.FailurePercentage(clock.Now()), 100.0);
  EXPECT_EQ(detector.EjectionRemaining(clock.Now()), seconds(29));
}

TEST(OutlierDetectorTest, SuccessfulProbeWhileEjectedBreaksTheStreak) {
  FakeClock clock;
  OutlierDetector detector;
  FailTimes(detector, clock.Now(), 5);
  FailTimes(detector, clock.Now(), 3);
  detector.RecordSuccess(clock.Now());
  EXPECT_EQ(detector.consecutive_failures(), 0u);
  EXPECT_EQ(detector.FailurePercentage(clock.Now()), 75.0);
  EXPECT_TRUE(detector.Ejected(clock.Now()));
}

TEST(OutlierDetectorTest, StreakAndWindowRestartWhenEjectionEnds) {
  FakeClock clock;
  OutlierDetector detector;
  FailTimes(detector, clock.Now(), 5);
  FailTimes(detector, clock.Now(), 10);
  clock.Advance(seconds(30));
  ASSERT_FALSE(detector.Ejected(clock.Now()));

  // The ten failures seen while ejected do not count against the returning target.
  detector.RecordFailure(clock.Now());
  EXPECT_EQ(detector.consecutive_failures(), 1u);
  EXPECT_EQ(detector.FailurePercentage(clock.Now()), 100.0);
  detector.RecordSuccess(clock.Now());
  EXPECT_EQ(detector.FailurePercentage(clock.Now()), 50.0);
  FailTimes(detector, clock.Now(), 4);
  EXPECT_FALSE(detector.Ejected(clock.Now()));
  detector.RecordFailure(clock.Now());
  EXPECT_TRUE(detector.Ejected(clock.Now()));
  EXPECT_EQ(detector.EjectionRemaining(clock.Now()), seconds(60));
}

TEST(OutlierDetectorTest, EjectsProviderFailingFivePercentFromTheStart) {
  FakeClock clock;
  OutlierDetector detector(PercentageOnly());
  std::optional<int> ejected_at;
  for (int request = 1; request <= 200 && !ejected_at; ++request) {
    if (request % 20 == 0) {
      detector.RecordFailure(clock.Now());
    } else {
      detector.RecordSuccess(clock.Now());
    }
    if (detector.Ejected(clock.Now())) ejected_at = request;
    clock.Advance(milliseconds(100));
  }
  // Request 60 is the first failure with at least 50 outcomes in the window: 3 of 60 = 5%.
  ASSERT_TRUE(ejected_at.has_value());
  EXPECT_EQ(*ejected_at, 60);
}

TEST(OutlierDetectorTest, EjectsProviderThatStartsFailingFivePercentOverTheWindow) {
  FakeClock clock;
  OutlierDetector detector;  // Default settings: 5%, 50 requests, 60 s window of 5 s buckets.
  // Five healthy minutes at 10 requests per second.
  for (int i = 0; i < 3000; ++i) {
    detector.RecordSuccess(clock.Now());
    clock.Advance(milliseconds(100));
  }
  const MonoTime pattern_start = clock.Now();
  std::optional<Duration> ejected_after;
  for (int request = 1; request <= 1200 && !ejected_after; ++request) {
    if (request % 20 == 0) {
      detector.RecordFailure(clock.Now());
    } else {
      detector.RecordSuccess(clock.Now());
    }
    if (detector.Ejected(clock.Now())) ejected_after = clock.Now() - pattern_start;
    clock.Advance(milliseconds(100));
  }
  // While the window still holds healthy outcomes from before, failures stay below 5%. The
  // window's oldest bucket starts at the pattern's start 55 s in (the window spans the current
  // 5 s bucket and the 11 before it); the first failure from then on is request 560, at 55.9 s,
  // and makes exactly 28 failures in 560 outcomes: 5%.
  ASSERT_TRUE(ejected_after.has_value());
  EXPECT_EQ(*ejected_after, milliseconds(55900));
  EXPECT_EQ(detector.ejections_total(), 1u);
}

TEST(OutlierDetectorTest, DoesNotEjectProviderFailingOnePercent) {
  FakeClock clock;
  OutlierDetector detector;
  // Ten minutes at 10 requests per second, every hundredth failing.
  for (int request = 1; request <= 6000; ++request) {
    if (request % 100 == 0) {
      detector.RecordFailure(clock.Now());
    } else {
      detector.RecordSuccess(clock.Now());
    }
    ASSERT_FALSE(detector.Ejected(clock.Now())) << "request " << request;
    clock.Advance(milliseconds(100));
  }
  EXPECT_EQ(detector.ejections_total(), 0u);
  EXPECT_NEAR(detector.FailurePercentage(clock.Now()), 1.0, 0.1);
}

TEST(OutlierDetectorTest, FailurePercentageNeedsMinimumRequests) {
  FakeClock clock;
  OutlierDetector detector(PercentageOnly());
  FailTimes(detector, clock.Now(), 49);
  EXPECT_FALSE(detector.Ejected(clock.Now()));
  EXPECT_EQ(detector.FailurePercentage(clock.Now()), 100.0);
  detector.RecordFailure(clock.Now());
  EXPECT_TRUE(detector.Ejected(clock.Now()));
  EXPECT_EQ(detector.EjectionRemaining(clock.Now()), seconds(30));
}

TEST(OutlierDetectorTest, OutcomesLeaveTheWindowAfterItsLength) {
  FakeClock clock;  // Starts on a 5 s bucket boundary.
  OutlierSettings settings = PercentageOnly();
  settings.minimum_requests = 1000;
  OutlierDetector detector(settings);
  FailTimes(detector, clock.Now(), 10);
  clock.Advance(seconds(30));
  detector.RecordSuccess(clock.Now());
  detector.RecordSuccess(clock.Now());
  EXPECT_NEAR(detector.FailurePercentage(clock.Now()), 100.0 * 10 / 12, 1e-9);

  // The failures' bucket is the oldest in the window until a full window has passed.
  clock.Advance(seconds(30) - nanoseconds(1));
  EXPECT_NEAR(detector.FailurePercentage(clock.Now()), 100.0 * 10 / 12, 1e-9);
  clock.Advance(nanoseconds(1));
  EXPECT_EQ(detector.FailurePercentage(clock.Now()), 0.0);

  // The successes leave 30 s later; an empty window reads 0%.
  clock.Advance(seconds(30));
  EXPECT_EQ(detector.FailurePercentage(clock.Now()), 0.0);
}

TEST(OutlierDetectorTest, StaleBucketIsReusedForANewPeriod) {
  FakeClock clock;
  OutlierDetector detector(PercentageOnly());
  FailTimes(detector, clock.Now(), 10);
  // Same ring slot, twelve buckets (one full window) later.
  clock.Advance(seconds(60));
  detector.RecordSuccess(clock.Now());
  detector.RecordSuccess(clock.Now());
  detector.RecordSuccess(clock.Now());
  EXPECT_EQ(detector.FailurePercentage(clock.Now()), 0.0);
  detector.RecordFailure(clock.Now());
  EXPECT_EQ(detector.FailurePercentage(clock.Now()), 25.0);
}

TEST(OutlierDetectorTest, ThresholdOutsideRangeDisablesPercentageEjection) {
  FakeClock clock;
  OutlierSettings settings = PercentageOnly();
  settings.failure_percentage_threshold = 0.0;
  OutlierDetector detector(settings);
  FailTimes(detector, clock.Now(), 500);
  EXPECT_FALSE(detector.Ejected(clock.Now()));
}

TEST(OutlierDetectorTest, ZeroBaseEjectionDisablesEjection) {
  FakeClock clock;
  OutlierSettings settings;
  settings.base_ejection = Duration::zero();
  OutlierDetector detector(settings);
  FailTimes(detector, clock.Now(), 500);
  EXPECT_FALSE(detector.Ejected(clock.Now()));
  EXPECT_EQ(detector.ejections_total(), 0u);
  EXPECT_EQ(detector.consecutive_failures(), 500u);
}

TEST(OutlierDetectorTest, ConcurrentFailuresEjectExactlyOnce) {
  FakeClock clock;
  OutlierDetector detector;
  const MonoTime now = clock.Now();
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&detector, now] { FailTimes(detector, now, 250); });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_TRUE(detector.Ejected(now));
  EXPECT_EQ(detector.ejections_total(), 1u);
  EXPECT_EQ(detector.EjectionRemaining(now), seconds(30));
}

}  // namespace
}  // namespace llmesh::failover
