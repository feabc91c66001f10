#include "proxy/xds/telemetry_accumulator.h"

#include <algorithm>
#include <utility>

namespace llmesh::xds {
namespace {

using provider::FailureKind;

uint64_t ErrorCount(const TargetDelta& delta, FailureKind kind) { return delta.errors[static_cast<size_t>(kind)]; }

// A switch rather than field numbers or names: a new FailureKind fails to compile here until
// telemetry.proto has its field.
void SetErrors(const TargetDelta& delta, telemetry::v1::ErrorCounts& errors) {
  for (size_t i = 0; i < kFailureKindCount; ++i) {
    const auto kind = static_cast<FailureKind>(i);
    const uint64_t n = ErrorCount(delta, kind);
    switch (kind) {
      case FailureKind::kConnect: errors.set_connect(n); break;
      case FailureKind::kReset: errors.set_reset(n); break;
      case FailureKind::kTimeout: errors.set_timeout(n); break;
      case FailureKind::kRateLimited: errors.set_rate_limited(n); break;
      case FailureKind::kOverloaded: errors.set_overloaded(n); break;
      case FailureKind::kServerError: errors.set_server_error(n); break;
      case FailureKind::kMalformed: errors.set_malformed(n); break;
      case FailureKind::kInvalidRequest: errors.set_invalid_request(n); break;
      case FailureKind::kContextLength: errors.set_context_length(n); break;
      case FailureKind::kAuth: errors.set_auth(n); break;
      case FailureKind::kModelNotFound: errors.set_model_not_found(n); break;
      case FailureKind::kQuota: errors.set_quota(n); break;
    }
  }
}

}  // namespace

void TargetDelta::Record(const AttemptOutcome& outcome) {
  ++attempts;
  switch (outcome.result) {
    case AttemptOutcome::Result::kSuccess:
      ++successes;
      latency.Add(static_cast<double>(outcome.latency.count()));
      if (outcome.time_to_first_token) {
        time_to_first_token.Add(static_cast<double>(outcome.time_to_first_token->count()));
      }
      break;
    case AttemptOutcome::Result::kFailure: {
      const auto index = static_cast<size_t>(outcome.failure);
      // A kind cast from outside the enum is still counted, as the generic server error.
      ++errors[index < kFailureKindCount ? index : static_cast<size_t>(FailureKind::kServerError)];
      break;
    }
    case AttemptOutcome::Result::kCancelled:
      ++cancelled;
      break;
  }
  if (outcome.retry) ++retries;
  if (outcome.hedge) ++hedges;
  input_tokens += outcome.usage.prompt_tokens;
  output_tokens += outcome.usage.completion_tokens;
  // The proto promises cached <= input; a provider reporting otherwise is clamped.
  cached_input_tokens += std::min(outcome.usage.cached_tokens, outcome.usage.prompt_tokens);
  cost_nano_usd += outcome.cost_nano_usd;
}

void TargetDelta::Merge(const TargetDelta& other) {
  attempts += other.attempts;
  successes += other.successes;
  for (size_t i = 0; i < kFailureKindCount; ++i) errors[i] += other.errors[i];
  cancelled += other.cancelled;
  retries += other.retries;
  hedges += other.hedges;
  input_tokens += other.input_tokens;
  output_tokens += other.output_tokens;
  cached_input_tokens += other.cached_input_tokens;
  cost_nano_usd += other.cost_nano_usd;
  // Every sketch here has the default accuracy, the only case in which Merge can fail.
  latency.Merge(other.latency).IgnoreError();
  time_to_first_token.Merge(other.time_to_first_token).IgnoreError();
}

void TargetDelta::Reset() {
  attempts = successes = cancelled = retries = hedges = 0;
  errors.fill(0);
  input_tokens = output_tokens = cached_input_tokens = cost_nano_usd = 0;
  latency.Clear();
  time_to_first_token.Clear();
}

void TargetDelta::ToProto(telemetry::v1::TargetStats& stats) const {
  stats.set_attempts(attempts);
  stats.set_successes(successes);
  SetErrors(*this, *stats.mutable_errors());
  stats.set_cancelled(cancelled);
  stats.set_retries(retries);
  stats.set_hedges(hedges);
  stats.set_input_tokens(input_tokens);
  stats.set_output_tokens(output_tokens);
  stats.set_cached_input_tokens(cached_input_tokens);
  stats.set_cost_nano_usd(cost_nano_usd);
  if (latency.count() > 0) latency.ToProto(stats.mutable_latency());
  if (time_to_first_token.count() > 0) time_to_first_token.ToProto(stats.mutable_time_to_first_token());
}

TargetDelta& TelemetryDelta::Target(std::string_view provider, std::string_view model) {
  return targets_[TargetName{std::string(provider), std::string(model)}];
}

void TelemetryDelta::Merge(const TelemetryDelta& other) {
  for (const auto& [name, delta] : other.targets_) targets_[name].Merge(delta);
}

void TelemetryDelta::AppendTo(telemetry::v1::TelemetryReport& report) const {
  for (const auto& [name, delta] : targets_) {
    if (delta.attempts == 0) continue;
    telemetry::v1::TargetStats& stats = *report.add_targets();
    stats.set_provider(name.provider);
    stats.set_model(name.model);
    delta.ToProto(stats);
  }
}

void TelemetryAccumulator::Record(std::string_view provider, std::string_view model, const AttemptOutcome& outcome) {
  auto it = targets_.find(NameView{provider, model});
  if (it == targets_.end()) {
    it = targets_.try_emplace(TargetName{std::string(provider), std::string(model)}).first;
  }
  it->second.Record(outcome);
}

TelemetryDelta TelemetryAccumulator::TakeDelta() {
  TelemetryDelta taken;
  for (auto it = targets_.begin(); it != targets_.end();) {
    if (it->second.attempts == 0) {
      targets_.erase(it++);
      continue;
    }
    taken.Target(it->first.provider, it->first.model) = it->second;
    it->second.Reset();
    ++it;
  }
  return taken;
}

}  // namespace llmesh::xds
