// Checks that recording an attempt on a worker does not touch the heap once its provider model
// is known, by counting calls to the replaceable global allocation functions (its own binary:
// the replacement applies to the whole program).
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>

#include "gtest/gtest.h"
#include "proxy/xds/telemetry_accumulator.h"

namespace {

std::atomic<bool> counting{false};
std::atomic<int> allocations{0};

}  // namespace

void* operator new(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace llmesh::xds {
namespace {

AttemptOutcome Outcome(int i) {
  AttemptOutcome outcome;
  outcome.result = i % 4 == 3 ? AttemptOutcome::Result::kFailure : AttemptOutcome::Result::kSuccess;
  outcome.failure = provider::FailureKind::kRateLimited;
  outcome.latency = std::chrono::microseconds(1000 + 997 * (i % 50));
  outcome.time_to_first_token = std::chrono::microseconds(500 + 311 * (i % 50));
  outcome.usage.prompt_tokens = 100;
  outcome.cost_nano_usd = 42;
  return outcome;
}

TEST(TelemetryAccumulatorAllocationTest, RecordsKnownTargetsWithoutHeapAllocation) {
  TelemetryAccumulator accumulator;
  // The first interval meets the targets and the latency range; a report takes it.
  for (int i = 0; i < 200; ++i) accumulator.Record(i % 2 ? "openai" : "anthropic", "a-model-name-longer-than-sso", Outcome(i));
  (void)accumulator.TakeDelta();

  allocations = 0;
  counting = true;
  for (int i = 0; i < 200; ++i) accumulator.Record(i % 2 ? "openai" : "anthropic", "a-model-name-longer-than-sso", Outcome(i));
  counting = false;
  EXPECT_EQ(allocations.load(), 0);
  EXPECT_EQ(accumulator.TakeDelta().targets().size(), 2u);
}

TEST(TelemetryAccumulatorAllocationTest, CountsTheAllocationOfANewTarget) {
  // Proves the counter works: a target seen for the first time gets its entry.
  TelemetryAccumulator accumulator;
  allocations = 0;
  counting = true;
  accumulator.Record("openai", "a-model-name-longer-than-sso", Outcome(0));
  counting = false;
  EXPECT_GT(allocations.load(), 0);
}

}  // namespace
}  // namespace llmesh::xds
