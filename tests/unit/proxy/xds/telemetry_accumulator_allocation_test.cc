// Checks that recording an attempt on a worker does not touch the heap once its provider model
// is known, by counting calls to the replaceable global allocation functions (its own binary:
// the replacement applies to the whole program).
#include <chrono>

#include "gtest/gtest.h"
#include "tests/fakes/allocation_counter.h"
#include "proxy/xds/telemetry_accumulator.h"

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

  llmesh::testing::StartCountingAllocations();
  for (int i = 0; i < 200; ++i) accumulator.Record(i % 2 ? "openai" : "anthropic", "a-model-name-longer-than-sso", Outcome(i));
  const int allocated = llmesh::testing::StopCountingAllocations();
  EXPECT_EQ(allocated, 0);
  EXPECT_EQ(accumulator.TakeDelta().targets().size(), 2u);
}

TEST(TelemetryAccumulatorAllocationTest, CountsTheAllocationOfANewTarget) {
  // Proves the counter works: a target seen for the first time gets its entry.
  TelemetryAccumulator accumulator;
  llmesh::testing::StartCountingAllocations();
  accumulator.Record("openai", "a-model-name-longer-than-sso", Outcome(0));
  const int allocated = llmesh::testing::StopCountingAllocations();
  EXPECT_GT(allocated, 0);
}

}  // namespace
}  // namespace llmesh::xds
