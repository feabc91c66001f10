#include "proxy/xds/telemetry_accumulator.h"

#include <gtest/gtest.h>

#include <chrono>

namespace llmesh::xds {
namespace {

using provider::FailureKind;
using std::chrono::microseconds;
using Result = AttemptOutcome::Result;

AttemptOutcome Success(int64_t latency_us, std::optional<int64_t> ttft_us = std::nullopt) {
  AttemptOutcome outcome;
  outcome.result = Result::kSuccess;
  outcome.latency = microseconds(latency_us);
  if (ttft_us) outcome.time_to_first_token = microseconds(*ttft_us);
  return outcome;
}

AttemptOutcome Failure(FailureKind kind) {
  AttemptOutcome outcome;
  outcome.result = Result::kFailure;
  outcome.failure = kind;
  outcome.latency = microseconds(500);
  return outcome;
}

AttemptOutcome Cancelled() {
  AttemptOutcome outcome;
  outcome.result = Result::kCancelled;
  return outcome;
}

const TargetDelta& Find(const TelemetryDelta& delta, std::string provider, std::string model) {
  static const TargetDelta kNone;
  auto it = delta.targets().find(TargetName{std::move(provider), std::move(model)});
  return it == delta.targets().end() ? kNone : it->second;
}

TEST(TelemetryAccumulatorTest, CountsEveryAttemptOnceByOutcome) {
  TelemetryAccumulator accumulator;
  AttemptOutcome priced = Success(200000, 40000);
  priced.usage = {.prompt_tokens = 1000, .completion_tokens = 50, .cached_tokens = 400};
  priced.cost_nano_usd = 180000;
  accumulator.Record("openai", "gpt", priced);
  accumulator.Record("openai", "gpt", Success(100000));
  AttemptOutcome retried = Failure(FailureKind::kRateLimited);
  retried.retry = true;
  accumulator.Record("openai", "gpt", retried);
  accumulator.Record("openai", "gpt", Failure(FailureKind::kTimeout));
  accumulator.Record("openai", "gpt", Failure(FailureKind::kTimeout));
  AttemptOutcome gone = Cancelled();
  gone.usage = {.prompt_tokens = 10, .completion_tokens = 2};
  gone.cost_nano_usd = 7;
  accumulator.Record("openai", "gpt", gone);
  accumulator.Record("anthropic", "haiku", Failure(FailureKind::kQuota));

  const TelemetryDelta delta = accumulator.TakeDelta();
  ASSERT_EQ(delta.targets().size(), 2u);
  const TargetDelta& gpt = Find(delta, "openai", "gpt");
  EXPECT_EQ(gpt.attempts, 6u);
  EXPECT_EQ(gpt.successes, 2u);
  EXPECT_EQ(gpt.errors[static_cast<size_t>(FailureKind::kRateLimited)], 1u);
  EXPECT_EQ(gpt.errors[static_cast<size_t>(FailureKind::kTimeout)], 2u);
  EXPECT_EQ(gpt.cancelled, 1u);
  EXPECT_EQ(gpt.retries, 1u);
  EXPECT_EQ(gpt.hedges, 0u);
  EXPECT_EQ(gpt.input_tokens, 1010u);
  EXPECT_EQ(gpt.output_tokens, 52u);
  EXPECT_EQ(gpt.cached_input_tokens, 400u);
  EXPECT_EQ(gpt.cost_nano_usd, 180007u);
  // Only the successes are sketched: a fast failure must not make a provider look fast.
  EXPECT_EQ(gpt.latency.count(), 2u);
  EXPECT_EQ(gpt.latency.min(), 100000.0);
  EXPECT_EQ(gpt.latency.max(), 200000.0);
  EXPECT_EQ(gpt.time_to_first_token.count(), 1u);
  EXPECT_EQ(gpt.time_to_first_token.sum(), 40000.0);

  const TargetDelta& haiku = Find(delta, "anthropic", "haiku");
  EXPECT_EQ(haiku.attempts, 1u);
  EXPECT_EQ(haiku.errors[static_cast<size_t>(FailureKind::kQuota)], 1u);
  EXPECT_EQ(haiku.latency.count(), 0u);
}

TEST(TelemetryAccumulatorTest, WritesEveryErrorClassToItsProtoField) {
  TargetDelta delta;
  // Kind i is recorded i + 1 times, so a field mixed up with another shows.
  for (size_t i = 0; i < kFailureKindCount; ++i) {
    for (size_t n = 0; n <= i; ++n) delta.Record(Failure(static_cast<FailureKind>(i)));
  }
  telemetry::v1::TargetStats stats;
  delta.ToProto(stats);
  const telemetry::v1::ErrorCounts& e = stats.errors();
  EXPECT_EQ(e.connect(), 1u);
  EXPECT_EQ(e.reset(), 2u);
  EXPECT_EQ(e.timeout(), 3u);
  EXPECT_EQ(e.rate_limited(), 4u);
  EXPECT_EQ(e.overloaded(), 5u);
  EXPECT_EQ(e.server_error(), 6u);
  EXPECT_EQ(e.malformed(), 7u);
  EXPECT_EQ(e.invalid_request(), 8u);
  EXPECT_EQ(e.context_length(), 9u);
  EXPECT_EQ(e.auth(), 10u);
  EXPECT_EQ(e.model_not_found(), 11u);
  EXPECT_EQ(e.quota(), 12u);
  EXPECT_EQ(stats.attempts(), 78u);
  EXPECT_EQ(stats.successes(), 0u);
  EXPECT_FALSE(stats.has_latency());
  EXPECT_FALSE(stats.has_rate_limit());
}

TEST(TelemetryAccumulatorTest, TakeDeltaStartsOverAndDropsIdleTargets) {
  TelemetryAccumulator accumulator;
  accumulator.Record("a", "m", Success(1000));
  accumulator.Record("b", "n", Success(2000));
  EXPECT_EQ(accumulator.TakeDelta().targets().size(), 2u);

  accumulator.Record("a", "m", Success(3000));
  const TelemetryDelta second = accumulator.TakeDelta();
  ASSERT_EQ(second.targets().size(), 1u);
  const TargetDelta& a = Find(second, "a", "m");
  EXPECT_EQ(a.attempts, 1u);
  EXPECT_EQ(a.latency.count(), 1u);
  EXPECT_EQ(a.latency.min(), 3000.0);
  // b/n had no attempt in the second interval: forgotten, so retired targets do not linger.
  EXPECT_EQ(accumulator.tracked_targets(), 1u);

  EXPECT_TRUE(accumulator.TakeDelta().empty());
  EXPECT_EQ(accumulator.tracked_targets(), 0u);
}

TEST(TelemetryAccumulatorTest, MergeOfWorkersEqualsOneWorkerSeeingEverything) {
  TelemetryAccumulator worker0;
  TelemetryAccumulator worker1;
  TelemetryAccumulator both;
  const int64_t latencies[] = {1200, 56000, 56100, 999999, 3, 87000, 87000, 450000};
  for (int i = 0; i < 8; ++i) {
    const AttemptOutcome outcome = i % 3 == 2 ? Failure(FailureKind::kOverloaded) : Success(latencies[i], latencies[i] / 2);
    (i % 2 == 0 ? worker0 : worker1).Record(i < 6 ? "a" : "b", "m", outcome);
    both.Record(i < 6 ? "a" : "b", "m", outcome);
  }
  TelemetryDelta merged = worker0.TakeDelta();
  merged.Merge(worker1.TakeDelta());
  const TelemetryDelta expected = both.TakeDelta();

  telemetry::v1::TelemetryReport merged_report;
  merged.AppendTo(merged_report);
  telemetry::v1::TelemetryReport expected_report;
  expected.AppendTo(expected_report);
  ASSERT_EQ(merged_report.targets_size(), 2);
  EXPECT_EQ(merged_report.targets(0).provider(), "a");
  EXPECT_EQ(merged_report.targets(0).attempts(), 6u);
  EXPECT_EQ(merged_report.targets(0).successes(), 4u);
  EXPECT_EQ(merged_report.targets(0).errors().overloaded(), 2u);
  EXPECT_EQ(merged_report.targets(1).provider(), "b");
  EXPECT_EQ(merged_report.targets(1).attempts(), 2u);
  // Counters and sketches alike: the merge is exact, bucket for bucket.
  EXPECT_EQ(merged_report.SerializeAsString(), expected_report.SerializeAsString());
}

TEST(TelemetryAccumulatorTest, ReportListsOnlyTargetsWithAttemptsInProviderModelOrder) {
  TelemetryDelta delta;
  delta.Target("z", "m").Record(Success(10));
  delta.Target("a", "y").Record(Success(10));
  delta.Target("a", "x");  // created, never recorded into
  telemetry::v1::TelemetryReport report;
  delta.AppendTo(report);
  ASSERT_EQ(report.targets_size(), 2);
  EXPECT_EQ(report.targets(0).provider(), "a");
  EXPECT_EQ(report.targets(0).model(), "y");
  EXPECT_EQ(report.targets(1).provider(), "z");
  EXPECT_EQ(report.targets(1).latency().count(), 1u);
}

}  // namespace
}  // namespace llmesh::xds
