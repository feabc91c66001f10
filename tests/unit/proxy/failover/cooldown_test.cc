#include "proxy/failover/cooldown.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "common/clock.h"
#include "gtest/gtest.h"

namespace llmesh::failover {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(CooldownTest, IsInactiveBeforeAnyHint) {
  FakeClock clock;
  Cooldown cooldown;
  EXPECT_FALSE(cooldown.Active(clock.Now()));
  EXPECT_EQ(cooldown.Remaining(clock.Now()), Duration::zero());
}

TEST(CooldownTest, ExpiresAfterHintedTime) {
  FakeClock clock;
  Cooldown cooldown;
  cooldown.Impose(clock.Now(), seconds(10), 1.0);
  EXPECT_TRUE(cooldown.Active(clock.Now()));
  EXPECT_EQ(cooldown.Remaining(clock.Now()), seconds(10));

  clock.Advance(seconds(10) - nanoseconds(1));
  EXPECT_TRUE(cooldown.Active(clock.Now()));
  EXPECT_EQ(cooldown.Remaining(clock.Now()), nanoseconds(1));

  clock.Advance(nanoseconds(1));
  EXPECT_FALSE(cooldown.Active(clock.Now()));
  EXPECT_EQ(cooldown.Remaining(clock.Now()), Duration::zero());
}

TEST(CooldownTest, ScalesHintByJitter) {
  FakeClock clock;
  Cooldown cooldown;
  cooldown.Impose(clock.Now(), seconds(10), 1.5);
  EXPECT_EQ(cooldown.Remaining(clock.Now()), seconds(15));

  Cooldown other;
  other.Impose(clock.Now(), milliseconds(2000), 1.25);
  EXPECT_EQ(other.Remaining(clock.Now()), milliseconds(2500));
}

TEST(CooldownTest, ClampsJitterIntoItsRange) {
  FakeClock clock;
  Cooldown high;
  high.Impose(clock.Now(), seconds(10), 3.0);
  EXPECT_EQ(high.Remaining(clock.Now()), seconds(15));

  Cooldown low;
  low.Impose(clock.Now(), seconds(10), 0.1);
  EXPECT_EQ(low.Remaining(clock.Now()), seconds(10));

  Cooldown nan;
  nan.Impose(clock.Now(), seconds(10), std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(nan.Remaining(clock.Now()), seconds(10));
}

TEST(CooldownTest, CapsAtThreeHundredSecondsByDefault) {
  FakeClock clock;
  Cooldown cooldown;
  cooldown.Impose(clock.Now(), std::chrono::hours(24), 1.5);
  EXPECT_EQ(cooldown.Remaining(clock.Now()), seconds(300));
}

TEST(CooldownTest, HugeHintIsCappedWithoutOverflow) {
  FakeClock clock;
  Cooldown cooldown;
  cooldown.Impose(clock.Now(), milliseconds(std::numeric_limits<int64_t>::max()), 1.5);
  EXPECT_EQ(cooldown.Remaining(clock.Now()), seconds(300));
}

TEST(CooldownTest, CapAppliesAfterJitter) {
  FakeClock clock;
  Cooldown cooldown;
  // 50 s × 1.5 = 75 s, above the 60 s cap.
  cooldown.Impose(clock.Now(), seconds(50), 1.5, seconds(60));
  EXPECT_EQ(cooldown.Remaining(clock.Now()), seconds(60));
}

TEST(CooldownTest, ShorterHintNeverShortensCooldown) {
  FakeClock clock;
  Cooldown cooldown;
  cooldown.Impose(clock.Now(), seconds(60), 1.0);
  clock.Advance(seconds(5));
  cooldown.Impose(clock.Now(), seconds(10), 1.0);
  EXPECT_EQ(cooldown.Remaining(clock.Now()), seconds(55));
}

TEST(CooldownTest, LongerHintExtendsCooldown) {
  FakeClock clock;
  Cooldown cooldown;
  cooldown.Impose(clock.Now(), seconds(10), 1.0);
  clock.Advance(seconds(5));
  cooldown.Impose(clock.Now(), seconds(20), 1.0);
  EXPECT_EQ(cooldown.Remaining(clock.Now()), seconds(20));
}

TEST(CooldownTest, ZeroOrNegativeHintImposesNothing) {
  FakeClock clock;
  Cooldown cooldown;
  cooldown.Impose(clock.Now(), milliseconds(0), 1.5);
  EXPECT_FALSE(cooldown.Active(clock.Now()));
  cooldown.Impose(clock.Now(), milliseconds(-500), 1.5);
  EXPECT_FALSE(cooldown.Active(clock.Now()));
}

TEST(CooldownTest, CanBeImposedAgainAfterExpiry) {
  FakeClock clock;
  Cooldown cooldown;
  cooldown.Impose(clock.Now(), seconds(1), 1.0);
  clock.Advance(seconds(2));
  EXPECT_FALSE(cooldown.Active(clock.Now()));
  cooldown.Impose(clock.Now(), seconds(3), 1.0);
  EXPECT_EQ(cooldown.Remaining(clock.Now()), seconds(3));
}

TEST(CooldownTest, ConcurrentImposeKeepsTheLatestDeadline) {
  FakeClock clock;
  Cooldown cooldown;
  const MonoTime now = clock.Now();
  constexpr int kThreads = 4;
  constexpr int kHintsPerThread = 1000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&cooldown, now, t] {
      for (int i = 0; i < kHintsPerThread; ++i) {
        cooldown.Impose(now, milliseconds(i * kThreads + t), 1.0);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(cooldown.Remaining(now), milliseconds(kHintsPerThread * kThreads - 1));
}

TEST(CooldownJitterTest, DrawsUniformlyFromOneToOneAndAHalf) {
  std::mt19937_64 engine(42);
  absl::BitGenRef gen(engine);
  constexpr int kDraws = 100000;
  double sum = 0;
  double lowest = 2;
  double highest = 0;
  int below_middle = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double jitter = DrawCooldownJitter(gen);
    ASSERT_GE(jitter, 1.0);
    ASSERT_LE(jitter, 1.5);
    sum += jitter;
    lowest = std::min(lowest, jitter);
    highest = std::max(highest, jitter);
    if (jitter < 1.25) ++below_middle;
  }
  EXPECT_NEAR(sum / kDraws, 1.25, 0.005);
  EXPECT_NEAR(static_cast<double>(below_middle) / kDraws, 0.5, 0.01);
  EXPECT_LT(lowest, 1.001);
  EXPECT_GT(highest, 1.499);
}

}  // namespace
}  // namespace llmesh::failover
