#include "proxy/failover/retry_budget.h"

#include <atomic>
#include <latch>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace llmesh::failover {
namespace {

std::vector<RetryBudget::ActiveRequest> StartRequests(RetryBudget& budget, int count) {
  std::vector<RetryBudget::ActiveRequest> requests;
  for (int i = 0; i < count; ++i) requests.push_back(budget.StartRequest());
  return requests;
}

TEST(RetryBudgetTest, AllowsMinimumConcurrencyWithoutLoad) {
  RetryBudget budget;
  std::vector<RetryBudget::RetryToken> tokens;
  for (int i = 0; i < 3; ++i) {
    std::optional<RetryBudget::RetryToken> token = budget.TryStartRetry();
    ASSERT_TRUE(token.has_value()) << "retry " << i;
    tokens.push_back(std::move(*token));
  }
  EXPECT_FALSE(budget.TryStartRetry().has_value());
  EXPECT_EQ(budget.refused_total(), 1u);
  EXPECT_EQ(budget.active_retries(), 3u);
}

TEST(RetryBudgetTest, MinimumConcurrencyWinsUnderLightLoad) {
  RetryBudget budget;
  auto requests = StartRequests(budget, 10);  // 20% of 10 = 2 < 3.
  EXPECT_EQ(budget.MaxRetries(), 3u);
  auto a = budget.TryStartRetry();
  auto b = budget.TryStartRetry();
  auto c = budget.TryStartRetry();
  EXPECT_TRUE(a && b && c);
  EXPECT_FALSE(budget.TryStartRetry().has_value());
  EXPECT_EQ(budget.refused_total(), 1u);
}

TEST(RetryBudgetTest, AllowsTwentyPercentOfActiveRequests) {
  RetryBudget budget;
  auto requests = StartRequests(budget, 100);
  EXPECT_EQ(budget.MaxRetries(), 20u);
  std::vector<RetryBudget::RetryToken> tokens;
  for (int i = 0; i < 25; ++i) {
    if (auto token = budget.TryStartRetry()) tokens.push_back(std::move(*token));
  }
  EXPECT_EQ(tokens.size(), 20u);
  EXPECT_EQ(budget.refused_total(), 5u);
}

TEST(RetryBudgetTest, RoundsThePercentageDown) {
  RetryBudget budget;
  auto requests = StartRequests(budget, 24);  // 4.8 -> 4.
  EXPECT_EQ(budget.MaxRetries(), 4u);
}

TEST(RetryBudgetTest, ReleasedTokenMakesRoom) {
  RetryBudget budget;
  std::optional<RetryBudget::RetryToken> first = budget.TryStartRetry();
  auto second = budget.TryStartRetry();
  auto third = budget.TryStartRetry();
  ASSERT_FALSE(budget.TryStartRetry().has_value());
  first.reset();
  EXPECT_EQ(budget.active_retries(), 2u);
  EXPECT_TRUE(budget.TryStartRetry().has_value());
  EXPECT_EQ(budget.refused_total(), 1u);
}

TEST(RetryBudgetTest, EndingRequestsShrinkTheAllowance) {
  RetryBudget budget;
  auto requests = StartRequests(budget, 100);
  std::vector<RetryBudget::RetryToken> tokens;
  for (int i = 0; i < 20; ++i) tokens.push_back(*budget.TryStartRetry());
  requests.erase(requests.begin() + 50,
                 requests.end());  // Allowance now 10, with 20 retries still running.
  EXPECT_EQ(budget.active_requests(), 50u);
  EXPECT_FALSE(budget.TryStartRetry().has_value());
  tokens.erase(tokens.begin() + 10, tokens.end());
  EXPECT_FALSE(budget.TryStartRetry().has_value());
  tokens.pop_back();
  EXPECT_TRUE(budget.TryStartRetry().has_value());
  EXPECT_EQ(budget.refused_total(), 2u);
}

TEST(RetryBudgetTest, CustomPercentAndMinimum) {
  RetryBudget budget(/*percent=*/50, /*min_concurrency=*/0);
  EXPECT_FALSE(budget.TryStartRetry().has_value());
  auto requests = StartRequests(budget, 4);
  auto a = budget.TryStartRetry();
  auto b = budget.TryStartRetry();
  EXPECT_TRUE(a && b);
  EXPECT_FALSE(budget.TryStartRetry().has_value());
  EXPECT_EQ(budget.refused_total(), 2u);
}

TEST(RetryBudgetTest, MovedFromHandlesCountNothing) {
  RetryBudget budget;
  {
    RetryBudget::ActiveRequest request = budget.StartRequest();
    RetryBudget::ActiveRequest moved = std::move(request);
    EXPECT_EQ(budget.active_requests(), 1u);
    std::optional<RetryBudget::RetryToken> token = budget.TryStartRetry();
    RetryBudget::RetryToken moved_token = std::move(*token);
    token.reset();
    EXPECT_EQ(budget.active_retries(), 1u);
  }
  EXPECT_EQ(budget.active_requests(), 0u);
  EXPECT_EQ(budget.active_retries(), 0u);
}

TEST(RetryBudgetTest, MoveAssignmentReleasesTheOverwrittenCount) {
  RetryBudget budget;
  RetryBudget::ActiveRequest a = budget.StartRequest();
  RetryBudget::ActiveRequest b = budget.StartRequest();
  ASSERT_EQ(budget.active_requests(), 2u);
  a = std::move(b);
  EXPECT_EQ(budget.active_requests(), 1u);
  RetryBudget::RetryToken x = *budget.TryStartRetry();
  RetryBudget::RetryToken y = *budget.TryStartRetry();
  x = std::move(y);
  EXPECT_EQ(budget.active_retries(), 1u);
}

TEST(RetryBudgetTest, ConcurrentRetriesNeverExceedTheBudget) {
  RetryBudget budget;
  auto requests = StartRequests(budget, 100);
  constexpr int kThreads = 8;
  constexpr int kTriesPerThread = 10;
  std::latch start(kThreads);
  std::atomic<int> granted{0};
  // Each thread keeps its tokens until every thread has finished trying, so the limit of 20
  // holds for the whole run and the counts are exact.
  std::latch done(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      std::vector<RetryBudget::RetryToken> tokens;
      start.arrive_and_wait();
      for (int i = 0; i < kTriesPerThread; ++i) {
        if (auto token = budget.TryStartRetry()) tokens.push_back(std::move(*token));
      }
      granted.fetch_add(static_cast<int>(tokens.size()));
      done.arrive_and_wait();
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(granted.load(), 20);
  EXPECT_EQ(budget.refused_total(), static_cast<uint64_t>(kThreads * kTriesPerThread - 20));
  EXPECT_EQ(budget.active_retries(), 0u);
}

}  // namespace
}  // namespace llmesh::failover
