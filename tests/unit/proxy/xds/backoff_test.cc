#include "proxy/xds/backoff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace llmesh::xds {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, DoublesFromHalfASecondAndStaysBelowThirtySeconds) {
  std::mt19937_64 rng(42);
  for (uint32_t attempt = 0; attempt < 12; ++attempt) {
    const milliseconds low(std::min<int64_t>(int64_t{500} << attempt, 15000));
    milliseconds seen_min = milliseconds::max();
    milliseconds seen_max = milliseconds::zero();
    for (int i = 0; i < 2000; ++i) {
      const milliseconds delay = BackoffDelay(attempt, rng);
      ASSERT_GE(delay, low) << "attempt " << attempt;
      ASSERT_LT(delay, 2 * low) << "attempt " << attempt;
      seen_min = std::min(seen_min, delay);
      seen_max = std::max(seen_max, delay);
    }
    // Jittered: the draws spread over the range instead of sitting on one value.
    EXPECT_LT(seen_min, low + low / 10) << "attempt " << attempt;
    EXPECT_GT(seen_max, 2 * low - low / 10) << "attempt " << attempt;
  }
}

TEST(BackoffTest, FirstDelayIsBetweenHalfASecondAndOneSecond) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; ++i) {
    const milliseconds delay = BackoffDelay(0, rng);
    ASSERT_GE(delay, kMinBackoff);
    ASSERT_LT(delay, milliseconds(1000));
  }
}

TEST(BackoffTest, HugeAttemptNumbersStayWithinTheCap) {
  std::mt19937_64 rng(1);
  for (uint32_t attempt : {6u, 7u, 31u, 32u, 63u, 64u, 1000u, 0xffffffffu}) {
    const milliseconds delay = BackoffDelay(attempt, rng);
    EXPECT_GE(delay, milliseconds(15000)) << attempt;
    EXPECT_LT(delay, kMaxBackoff) << attempt;
  }
}

TEST(BackoffTest, SameSeedGivesTheSameSequence) {
  std::mt19937_64 a(99);
  std::mt19937_64 b(99);
  for (uint32_t attempt = 0; attempt < 10; ++attempt) EXPECT_EQ(BackoffDelay(attempt, a), BackoffDelay(attempt, b));
}

}  // namespace
}  // namespace llmesh::xds
