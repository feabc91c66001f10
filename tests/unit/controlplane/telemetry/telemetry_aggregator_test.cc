// The telemetry window without sockets: reports in, TargetStats and health figures out, time
// from a FakeClock. Covers expiry, exact merges across sidecars, the p95 error bound, cost per
// success, refused reports, duplicates, and the stats driving WeightComputer end to end.
#include "controlplane/telemetry/telemetry_aggregator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/clock.h"
#include "common/metrics/latency_sketch.h"
#include "controlplane/weights/weight_computer.h"

namespace llmesh::control {
namespace {

namespace telemetry = ::llmesh::telemetry::v1;
using std::chrono::seconds;

const TargetKey kA{"alpha", "cheap-model"};
const TargetKey kB{"beta", "dear-model"};

telemetry::LatencySketch SketchOf(const std::vector<double>& micros) {
  metrics::LatencySketch sketch;
  for (double v : micros) sketch.Add(v);
  telemetry::LatencySketch proto;
  sketch.ToProto(&proto);
  return proto;
}

// A target entry: `successes` successful attempts with the given latencies, plus failures.
telemetry::TargetStats Entry(const TargetKey& key, uint64_t successes, uint64_t server_errors,
                             uint64_t rate_limited, uint64_t cost_nano_usd,
                             const std::vector<double>& latency_us = {}) {
  telemetry::TargetStats t;
  t.set_provider(key.provider);
  t.set_model(key.model);
  t.set_successes(successes);
  t.mutable_errors()->set_server_error(server_errors);
  t.mutable_errors()->set_rate_limited(rate_limited);
  t.set_attempts(successes + server_errors + rate_limited);
  t.set_cost_nano_usd(cost_nano_usd);
  if (!latency_us.empty()) {
    *t.mutable_latency() = SketchOf(latency_us);
    *t.mutable_time_to_first_token() = SketchOf(latency_us);
  }
  return t;
}

telemetry::TelemetryReport Report(std::vector<telemetry::TargetStats> targets,
                                  int64_t interval_start_s = 0) {
  telemetry::TelemetryReport report;
  report.set_sequence(1);
  if (interval_start_s > 0) {
    report.mutable_interval_start()->set_seconds(interval_start_s);
    report.mutable_interval_end()->set_seconds(interval_start_s + 5);
  }
  for (auto& t : targets) *report.add_targets() = std::move(t);
  return report;
}

Duration Micros(double us) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::micro>(us));
}

class TelemetryAggregatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto aggregator = TelemetryAggregator::Create({}, clock_);
    ASSERT_TRUE(aggregator.ok()) << aggregator.status();
    aggregator_ = *std::move(aggregator);
  }

  FakeClock clock_;
  std::unique_ptr<TelemetryAggregator> aggregator_;
};

TEST(TelemetryOptionsTest, RefusesWindowThatIsNotAMultipleOfTheSlot) {
  TelemetryOptions options;
  options.window = seconds(62);
  EXPECT_EQ(ValidateTelemetryOptions(options).code(), absl::StatusCode::kInvalidArgument);
  options.window = seconds(60);
  options.slot = Duration::zero();
  EXPECT_EQ(ValidateTelemetryOptions(options).code(), absl::StatusCode::kInvalidArgument);
  options.slot = seconds(5);
  options.relative_accuracy = 0.9;
  EXPECT_EQ(ValidateTelemetryOptions(options).code(), absl::StatusCode::kInvalidArgument);
  options.relative_accuracy = 0.01;
  EXPECT_TRUE(ValidateTelemetryOptions(options).ok());
}

TEST_F(TelemetryAggregatorTest, TurnsOneReportIntoTargetStats) {
  ASSERT_TRUE(aggregator_->Ingest("pod-1", Report({Entry(kA, 90, 6, 4, 450'000'000)})).ok());

  const TelemetryWindow stats = aggregator_->Stats();
  ASSERT_EQ(stats.size(), 1u);
  const TargetStats& a = stats.at(kA);
  EXPECT_EQ(a.requests, 100u);
  EXPECT_EQ(a.successes, 90u);
  EXPECT_EQ(a.errors, 6u);
  EXPECT_EQ(a.rate_limited, 4u);
  EXPECT_DOUBLE_EQ(a.cost_per_success_usd, 0.005);
  EXPECT_EQ(a.p95_latency, Duration::zero());
  EXPECT_EQ(a.updated_at, clock_.Now());
  EXPECT_EQ(aggregator_->reports_absorbed(), 1u);
  EXPECT_EQ(aggregator_->reports_refused(), 0u);
}

TEST_F(TelemetryAggregatorTest, ClientFaultFailuresAreNotProviderErrors) {
  telemetry::TargetStats t = Entry(kA, 10, 0, 0, 0);
  t.mutable_errors()->set_invalid_request(3);
  t.mutable_errors()->set_context_length(2);
  t.mutable_errors()->set_timeout(1);
  t.set_cancelled(4);
  t.set_attempts(20);
  ASSERT_TRUE(aggregator_->Ingest("pod-1", Report({t})).ok());
  const TargetStats a = aggregator_->Stats().at(kA);
  EXPECT_EQ(a.requests, 20u);
  EXPECT_EQ(a.errors, 1u);
  EXPECT_EQ(a.rate_limited, 0u);
}

TEST_F(TelemetryAggregatorTest, DropsReportsOnceTheirSlotLeavesTheWindow) {
  const MonoTime first = clock_.Now();
  ASSERT_TRUE(aggregator_->Ingest("pod-1", Report({Entry(kA, 10, 0, 0, 0)})).ok());
  clock_.Advance(seconds(30));
  ASSERT_TRUE(aggregator_->Ingest("pod-1", Report({Entry(kA, 5, 1, 0, 0)})).ok());
  EXPECT_EQ(aggregator_->Stats().at(kA).requests, 16u);
  EXPECT_EQ(aggregator_->Health().reporting_sidecars, 1u);

  // 59 s after the first report it is still in its slot's 60 s of life.
  clock_.Advance(seconds(29));
  EXPECT_EQ(aggregator_->Stats().at(kA).requests, 16u);
  // At 60 s its slot is out of the window; the later report stays.
  clock_.Advance(seconds(1));
  TargetStats a = aggregator_->Stats().at(kA);
  EXPECT_EQ(a.requests, 6u);
  EXPECT_EQ(a.errors, 1u);
  EXPECT_EQ(a.updated_at, first + seconds(30));

  clock_.Advance(seconds(30));
  EXPECT_TRUE(aggregator_->Stats().empty());
  EXPECT_EQ(aggregator_->Health().reporting_sidecars, 0u);

  // A slot reused after a lap of the ring starts empty.
  ASSERT_TRUE(aggregator_->Ingest("pod-2", Report({Entry(kB, 7, 0, 0, 0)})).ok());
  const TelemetryWindow stats = aggregator_->Stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats.at(kB).requests, 7u);
}

TEST_F(TelemetryAggregatorTest, MergesSketchesFromSeveralSidecarsExactly) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> latency(20'000, 900'000);
  metrics::LatencySketch all_latency;
  uint64_t successes = 0;
  uint64_t cost = 0;
  for (int pod = 0; pod < 3; ++pod) {
    std::vector<double> values(200 + 100 * pod);
    for (double& v : values) v = latency(rng);
    for (double v : values) all_latency.Add(v);
    successes += values.size();
    cost += 1'000'003 * values.size();
    ASSERT_TRUE(aggregator_
                    ->Ingest("pod-" + std::to_string(pod),
                             Report({Entry(kA, values.size(), pod, 0, 1'000'003 * values.size(),
                                           values)}))
                    .ok());
    clock_.Advance(seconds(5));
  }
  const TargetStats a = aggregator_->Stats().at(kA);
  EXPECT_EQ(a.successes, successes);
  EXPECT_EQ(a.errors, 3u);
  EXPECT_EQ(a.requests, successes + 3);
  // Merging is exact: the window's p95 is the p95 of one sketch holding every value.
  EXPECT_EQ(a.p95_latency, Micros(all_latency.Quantile(0.95)));
  EXPECT_EQ(a.p95_ttft, Micros(all_latency.Quantile(0.95)));
  EXPECT_DOUBLE_EQ(a.cost_per_success_usd,
                   static_cast<double>(cost) / static_cast<double>(successes) * 1e-9);

  const WindowHealth health = aggregator_->Health();
  EXPECT_EQ(health.reporting_sidecars, 3u);
  EXPECT_EQ(health.window, absl::Seconds(60));
  const TargetHealthFigures& f = health.targets.at(kA);
  EXPECT_EQ(f.latency_p50, absl::Microseconds(all_latency.Quantile(0.50)));
  EXPECT_EQ(f.latency_p99, absl::Microseconds(all_latency.Quantile(0.99)));
  EXPECT_DOUBLE_EQ(f.error_rate, 3.0 / static_cast<double>(successes + 3));
}

TEST_F(TelemetryAggregatorTest, MergedP95IsWithinOnePercentOfTheExactValue) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> latency(std::log(300'000.0), 0.8);
  std::vector<double> every;
  for (int pod = 0; pod < 10; ++pod) {
    std::vector<double> values(1000);
    for (double& v : values) v = latency(rng);
    every.insert(every.end(), values.begin(), values.end());
    ASSERT_TRUE(aggregator_
                    ->Ingest("pod-" + std::to_string(pod),
                             Report({Entry(kA, values.size(), 0, 0, 0, values)}))
                    .ok());
  }
  std::sort(every.begin(), every.end());
  const double exact = every[static_cast<size_t>(std::floor(0.95 * (every.size() - 1)))];
  const double estimate =
      std::chrono::duration<double, std::micro>(aggregator_->Stats().at(kA).p95_latency).count();
  EXPECT_LE(std::abs(estimate - exact), 0.01 * exact) << estimate << " vs " << exact;
}

TEST_F(TelemetryAggregatorTest, CostPerSuccessIsUnknownWithoutSuccess) {
  ASSERT_TRUE(aggregator_->Ingest("pod-1", Report({Entry(kA, 0, 5, 0, 1000)})).ok());
  ASSERT_TRUE(aggregator_->Ingest("pod-2", Report({Entry(kB, 4, 0, 0, 2'000'000)})).ok());
  const TelemetryWindow stats = aggregator_->Stats();
  EXPECT_EQ(stats.at(kA).cost_per_success_usd, -1);
  EXPECT_DOUBLE_EQ(stats.at(kB).cost_per_success_usd, 0.0005);
  const WindowHealth health = aggregator_->Health();
  EXPECT_EQ(health.targets.at(kA).cost_per_success_usd, 0);
  EXPECT_DOUBLE_EQ(health.targets.at(kA).error_rate, 1.0);
  EXPECT_DOUBLE_EQ(health.targets.at(kB).cost_per_success_usd, 0.0005);
}

TEST_F(TelemetryAggregatorTest, HealthShowsRateLimitedShare) {
  ASSERT_TRUE(aggregator_->Ingest("pod-1", Report({Entry(kA, 70, 10, 20, 0)})).ok());
  const TargetHealthFigures f = aggregator_->Health().targets.at(kA);
  EXPECT_EQ(f.attempts, 100u);
  EXPECT_EQ(f.successes, 70u);
  EXPECT_DOUBLE_EQ(f.error_rate, 0.10);
  EXPECT_DOUBLE_EQ(f.rate_limited_share, 0.20);
  EXPECT_EQ(f.latency_p95, absl::ZeroDuration());
}

struct Malformed {
  std::string name;
  std::function<void(telemetry::TelemetryReport&)> mutate;
  std::string path;
};

TEST_F(TelemetryAggregatorTest, RefusesMalformedReportsWholeWithTheFieldPath) {
  const std::vector<Malformed> cases = {
      {"attempts", [](auto& r) { r.mutable_targets(1)->set_attempts(99); }, "targets[1].attempts"},
      {"provider", [](auto& r) { r.mutable_targets(1)->clear_provider(); }, "targets[1].provider"},
      {"model", [](auto& r) { r.mutable_targets(0)->clear_model(); }, "targets[0].model"},
      {"twice", [](auto& r) { *r.add_targets() = r.targets(0); }, "targets[2]"},
      {"retries", [](auto& r) { r.mutable_targets(0)->set_retries(1000); }, "targets[0].retries"},
      {"hedges", [](auto& r) { r.mutable_targets(0)->set_hedges(1000); }, "targets[0].hedges"},
      {"cached",
       [](auto& r) { r.mutable_targets(0)->set_cached_input_tokens(1); },
       "targets[0].cached_input_tokens"},
      {"run start",
       [](auto& r) { r.mutable_targets(1)->mutable_latency()->mutable_runs(0)->set_start(0); },
       "targets[1].latency"},
      {"sketch count",
       [](auto& r) { r.mutable_targets(1)->mutable_latency()->set_count(1); },
       "targets[1].latency"},
      {"accuracy",
       [](auto& r) {
         metrics::LatencySketch coarse(0.05);
         coarse.Add(1000);
         coarse.ToProto(r.mutable_targets(1)->mutable_time_to_first_token());
       },
       "targets[1].time_to_first_token.relative_accuracy"},
      {"more values than successes",
       [](auto& r) {
         *r.mutable_targets(1)->mutable_latency() = SketchOf(std::vector<double>(11, 5000.0));
       },
       "targets[1].latency.count"},
      {"overflow",
       [](auto& r) {
         r.mutable_targets(0)->set_successes(UINT64_MAX);
         r.mutable_targets(0)->mutable_errors()->set_reset(2);
         r.mutable_targets(0)->set_attempts(1);
       },
       "targets[0].attempts"},
      {"interval",
       [](auto& r) {
         r.mutable_interval_start()->set_seconds(100);
         r.mutable_interval_end()->set_seconds(99);
       },
       "interval_end"},
  };
  uint64_t refused = 0;
  for (const Malformed& c : cases) {
    telemetry::TelemetryReport report =
        Report({Entry(kA, 5, 0, 0, 100), Entry(kB, 10, 0, 0, 100, {1000, 2000})});
    c.mutate(report);
    const absl::Status status = aggregator_->Ingest("pod-1", report);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_TRUE(absl::StartsWith(status.message(), c.path)) << c.name << ": " << status;
    EXPECT_EQ(aggregator_->reports_refused(), ++refused) << c.name;
  }
  EXPECT_EQ(aggregator_->Ingest("", Report({})).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(aggregator_->reports_refused(), refused + 1);
  EXPECT_EQ(aggregator_->reports_absorbed(), 0u);
  EXPECT_TRUE(aggregator_->Stats().empty());
}

TEST_F(TelemetryAggregatorTest, AcceptsEmptyReportsAndAbsentSketches) {
  ASSERT_TRUE(aggregator_->Ingest("pod-1", Report({})).ok());
  telemetry::TargetStats t = Entry(kA, 3, 0, 0, 0);
  t.mutable_latency();  // Present but all-default: no sketch.
  ASSERT_TRUE(aggregator_->Ingest("pod-2", Report({t})).ok());
  EXPECT_EQ(aggregator_->Stats().at(kA).p95_latency, Duration::zero());
  EXPECT_EQ(aggregator_->Health().reporting_sidecars, 2u);
  EXPECT_EQ(aggregator_->reports_absorbed(), 2u);
}

TEST_F(TelemetryAggregatorTest, CountsAReplayedIntervalOfOneNodeOnce) {
  const telemetry::TelemetryReport report = Report({Entry(kA, 10, 0, 0, 0)}, 1'700'000'000);
  ASSERT_TRUE(aggregator_->Ingest("pod-1", report).ok());
  clock_.Advance(seconds(20));
  EXPECT_EQ(aggregator_->Ingest("pod-1", report).code(), absl::StatusCode::kAlreadyExists);
  // Another sidecar may report the same interval of its own.
  ASSERT_TRUE(aggregator_->Ingest("pod-2", report).ok());
  EXPECT_EQ(aggregator_->Stats().at(kA).requests, 20u);
  EXPECT_EQ(aggregator_->reports_absorbed(), 2u);
  EXPECT_EQ(aggregator_->reports_refused(), 1u);
}

// Acceptance 5 at the unit level: A is cheap and takes the tier; it starts failing 10% of
// calls; the window's error rate crosses the 5% SLO once more than half of the 12 slots hold
// degraded reports, and WeightComputer drops A to the probe floor in that interval.
TEST_F(TelemetryAggregatorTest, DegradedTargetGoesToTheProbeFloorThroughTheWindow) {
  auto computer = WeightComputer::Create({}, clock_);
  ASSERT_TRUE(computer.ok()) << computer.status();
  TierInput tier;
  tier.route = "chat";
  tier.targets = {{kA, 1}, {kB, 1}};
  const uint32_t floor_bp = 200;

  auto interval = [&](uint64_t a_errors) -> std::vector<TargetWeight> {
    clock_.Advance(seconds(5));
    for (int pod = 0; pod < 3; ++pod) {
      // 100 attempts per sidecar per target; A costs $0.001 per call, B $0.004.
      const auto report = Report({Entry(kA, 100 - a_errors, a_errors, 0, (100 - a_errors) * 1'000'000),
                                  Entry(kB, 100, 0, 0, 100 * 4'000'000)});
      EXPECT_TRUE(aggregator_->Ingest("pod-" + std::to_string(pod), report).ok());
    }
    auto out = computer->Compute({tier}, aggregator_->Stats(), {});
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() && out->size() == 1 ? (*out)[0].published : std::vector<TargetWeight>{};
  };

  std::vector<TargetWeight> weights;
  for (int i = 0; i < 30; ++i) weights = interval(0);
  ASSERT_EQ(weights.size(), 2u);
  EXPECT_EQ(weights[0].target, kA);
  EXPECT_EQ(weights[0].weight, 10000 - floor_bp);
  EXPECT_EQ(weights[0].reason, WeightReason::kCheapest);

  // Six degraded slots of twelve: exactly 5.0% errors, which meets the SLO.
  for (int i = 0; i < 6; ++i) weights = interval(10);
  EXPECT_EQ(aggregator_->Health().targets.at(kA).error_rate, 0.05);
  EXPECT_EQ(weights[0].weight, 10000 - floor_bp);
  // The seventh puts the window above 5%: A leaves at once.
  weights = interval(10);
  EXPECT_EQ(weights[0].weight, floor_bp);
  EXPECT_EQ(weights[0].reason, WeightReason::kSloBreach);
  EXPECT_EQ(weights[1].target, kB);
  EXPECT_EQ(weights[1].weight, 10000 - floor_bp);
}

}  // namespace
}  // namespace llmesh::control
