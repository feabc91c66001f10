#include "bench/control_load/report_pool.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "common/metrics/latency_sketch.h"

namespace llmesh::bench {
namespace {

namespace telemetry = ::llmesh::telemetry::v1;

// Draws `n` attempts' worth of a rare outcome, leaving the rest for later classes.
uint64_t Take(std::mt19937_64& rng, uint64_t& remaining, double p) {
  if (remaining == 0) return 0;
  const uint64_t n = std::binomial_distribution<uint64_t>(remaining, p)(rng);
  remaining -= n;
  return n;
}

void FillSketch(std::mt19937_64& rng, uint64_t values, double median_us,
                telemetry::LatencySketch& out) {
  metrics::LatencySketch sketch;
  std::lognormal_distribution<double> latency(std::log(median_us), 0.5);
  for (uint64_t i = 0; i < values; ++i) sketch.Add(latency(rng));
  sketch.ToProto(&out);
}

// One interval of one provider model: about 25 attempts (a sidecar at 20 requests/s over a 5 s
// interval, spread over four targets), error shares of a provider having an ordinary day.
void FillTarget(std::mt19937_64& rng, const ReportTarget& target, size_t target_index,
                telemetry::TargetStats& out) {
  out.set_provider(target.provider);
  out.set_model(target.model);
  const uint64_t attempts = std::uniform_int_distribution<uint64_t>(15, 35)(rng);
  uint64_t remaining = attempts;
  telemetry::ErrorCounts& errors = *out.mutable_errors();
  errors.set_rate_limited(Take(rng, remaining, 0.02));
  errors.set_server_error(Take(rng, remaining, 0.01));
  errors.set_overloaded(Take(rng, remaining, 0.005));
  errors.set_timeout(Take(rng, remaining, 0.005));
  errors.set_reset(Take(rng, remaining, 0.002));
  errors.set_invalid_request(Take(rng, remaining, 0.003));
  out.set_cancelled(Take(rng, remaining, 0.01));
  const uint64_t successes = remaining;
  out.set_attempts(attempts);
  out.set_successes(successes);
  out.set_retries(std::binomial_distribution<uint64_t>(attempts, 0.03)(rng));
  out.set_hedges(std::binomial_distribution<uint64_t>(attempts, 0.01)(rng));

  std::uniform_int_distribution<uint64_t> input(300, 1500);
  std::uniform_int_distribution<uint64_t> output(50, 400);
  uint64_t input_tokens = 0;
  uint64_t output_tokens = 0;
  for (uint64_t i = 0; i < successes; ++i) {
    input_tokens += input(rng);
    output_tokens += output(rng);
  }
  const uint64_t cached = input_tokens * 3 / 10;
  out.set_input_tokens(input_tokens);
  out.set_output_tokens(output_tokens);
  out.set_cached_input_tokens(cached);
  // Prices in nano-dollars per token, cheapest target first: $0.15 to $3 per million input
  // tokens, output four times that, cached input a tenth.
  static constexpr uint64_t kInputNanoPerToken[] = {150, 600, 1250, 3000};
  const uint64_t price = kInputNanoPerToken[target_index % 4];
  out.set_cost_nano_usd((input_tokens - cached) * price + cached * price / 10 +
                        output_tokens * price * 4);

  telemetry::RateLimitHeadroom& headroom = *out.mutable_rate_limit();
  headroom.set_limit_requests(10'000);
  headroom.set_min_remaining_requests(std::uniform_int_distribution<uint64_t>(100, 9'000)(rng));
  headroom.set_limit_tokens(2'000'000);
  headroom.set_min_remaining_tokens(
      std::uniform_int_distribution<uint64_t>(50'000, 1'900'000)(rng));

  // Slower targets are the cheaper ones' alternatives; about 70% of calls are streamed.
  const double median_us = 600e3 + 200e3 * static_cast<double>(target_index % 4);
  FillSketch(rng, successes, median_us, *out.mutable_latency());
  const uint64_t streamed = std::binomial_distribution<uint64_t>(successes, 0.7)(rng);
  FillSketch(rng, streamed, median_us / 3, *out.mutable_time_to_first_token());
}

}  // namespace

ReportPool::ReportPool(std::vector<ReportTarget> targets, size_t variants, uint64_t seed) {
  std::mt19937_64 rng(seed);
  variants = std::max<size_t>(variants, 1);
  variants_.resize(variants);
  attempts_.resize(variants);
  for (size_t v = 0; v < variants; ++v) {
    for (size_t t = 0; t < targets.size(); ++t) {
      telemetry::TargetStats& stats = *variants_[v].add_targets();
      FillTarget(rng, targets[t], t, stats);
      attempts_[v] += stats.attempts();
    }
  }
}

void ReportPool::Fill(size_t i, telemetry::TelemetryReport& report) const {
  *report.mutable_targets() = variants_[i % variants_.size()].targets();
}

size_t ReportPool::ReportBytes() const { return variants_[0].ByteSizeLong(); }

}  // namespace llmesh::bench
