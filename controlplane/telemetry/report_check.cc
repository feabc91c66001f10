#include "controlplane/telemetry/report_check.h"

#include <limits>
#include <set>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace llmesh::control {

namespace telemetry = ::llmesh::telemetry::v1;

namespace {

uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return b > std::numeric_limits<uint64_t>::max() - a ? std::numeric_limits<uint64_t>::max()
                                                      : a + b;
}

// Sums without wrapping; nullopt when the exact sum does not fit, which no honest report
// reaches (it would be 1.8e19 attempts in one interval).
std::optional<uint64_t> CheckedSum(std::initializer_list<uint64_t> values) {
  uint64_t sum = 0;
  for (uint64_t v : values) {
    if (v > std::numeric_limits<uint64_t>::max() - sum) return std::nullopt;
    sum += v;
  }
  return sum;
}

absl::Status Invalid(const std::string& path, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", problem));
}

absl::StatusOr<std::optional<metrics::LatencySketch>> DecodeSketch(
    const telemetry::LatencySketch& proto, const std::string& path, double relative_accuracy,
    uint64_t successes) {
  // An all-default message is how proto3 spells "no sketch" when the sender set the field
  // anyway; it has no accuracy to check and nothing to merge.
  if (proto.count() == 0 && proto.runs_size() == 0 && proto.zero_count() == 0 &&
      proto.relative_accuracy() == 0 && proto.sum_us() == 0 && proto.min_us() == 0 &&
      proto.max_us() == 0) {
    return std::nullopt;
  }
  absl::StatusOr<metrics::LatencySketch> sketch = metrics::LatencySketch::FromProto(proto);
  if (!sketch.ok()) return Invalid(path, sketch.status().message());
  if (sketch->count() == 0) return std::nullopt;
  if (sketch->relative_accuracy() != relative_accuracy) {
    return Invalid(path + ".relative_accuracy",
                   absl::StrCat(sketch->relative_accuracy(), " differs from the window's ",
                                relative_accuracy, "; such sketches cannot merge exactly"));
  }
  if (sketch->count() > successes) {
    return Invalid(path + ".count", absl::StrCat(sketch->count(), " values but only ", successes,
                                                 " successful attempts"));
  }
  return std::optional<metrics::LatencySketch>(*std::move(sketch));
}

absl::StatusOr<DecodedTarget> DecodeTarget(const telemetry::TargetStats& t,
                                           const std::string& path, double relative_accuracy) {
  if (t.provider().empty()) return Invalid(path + ".provider", "must not be empty");
  if (t.model().empty()) return Invalid(path + ".model", "must not be empty");

  const telemetry::ErrorCounts& e = t.errors();
  const std::optional<uint64_t> errors =
      CheckedSum({e.connect(), e.reset(), e.timeout(), e.overloaded(), e.server_error(),
                  e.malformed(), e.auth(), e.model_not_found(), e.quota()});
  const std::optional<uint64_t> client_errors = CheckedSum({e.invalid_request(), e.context_length()});
  std::optional<uint64_t> accounted;
  if (errors && client_errors) {
    accounted = CheckedSum({t.successes(), *errors, e.rate_limited(), *client_errors, t.cancelled()});
  }
  if (!accounted || *accounted != t.attempts()) {
    return Invalid(path + ".attempts",
                   absl::StrCat(t.attempts(),
                                " is not successes + every error class + cancelled"));
  }
  if (t.retries() > t.attempts()) {
    return Invalid(path + ".retries", absl::StrCat(t.retries(), " > attempts ", t.attempts()));
  }
  if (t.hedges() > t.attempts()) {
    return Invalid(path + ".hedges", absl::StrCat(t.hedges(), " > attempts ", t.attempts()));
  }
  if (t.cached_input_tokens() > t.input_tokens()) {
    return Invalid(path + ".cached_input_tokens",
                   absl::StrCat(t.cached_input_tokens(), " > input_tokens ", t.input_tokens()));
  }

  DecodedTarget target;
  target.key = TargetKey{t.provider(), t.model()};
  TargetCounters& c = target.counters;
  c.attempts = t.attempts();
  c.successes = t.successes();
  c.errors = *errors;
  c.rate_limited = e.rate_limited();
  c.client_errors = *client_errors;
  c.cancelled = t.cancelled();
  c.retries = t.retries();
  c.hedges = t.hedges();
  c.input_tokens = t.input_tokens();
  c.output_tokens = t.output_tokens();
  c.cached_input_tokens = t.cached_input_tokens();
  c.cost_nano_usd = t.cost_nano_usd();

  if (t.has_latency()) {
    auto latency = DecodeSketch(t.latency(), path + ".latency", relative_accuracy, t.successes());
    if (!latency.ok()) return latency.status();
    target.latency = *std::move(latency);
  }
  if (t.has_time_to_first_token()) {
    auto ttft = DecodeSketch(t.time_to_first_token(), path + ".time_to_first_token",
                             relative_accuracy, t.successes());
    if (!ttft.ok()) return ttft.status();
    target.time_to_first_token = *std::move(ttft);
  }
  return target;
}

bool Before(const google::protobuf::Timestamp& a, const google::protobuf::Timestamp& b) {
  return a.seconds() != b.seconds() ? a.seconds() < b.seconds() : a.nanos() < b.nanos();
}

}  // namespace

void TargetCounters::Add(const TargetCounters& o) {
  attempts = SaturatingAdd(attempts, o.attempts);
  successes = SaturatingAdd(successes, o.successes);
  errors = SaturatingAdd(errors, o.errors);
  rate_limited = SaturatingAdd(rate_limited, o.rate_limited);
  client_errors = SaturatingAdd(client_errors, o.client_errors);
  cancelled = SaturatingAdd(cancelled, o.cancelled);
  retries = SaturatingAdd(retries, o.retries);
  hedges = SaturatingAdd(hedges, o.hedges);
  input_tokens = SaturatingAdd(input_tokens, o.input_tokens);
  output_tokens = SaturatingAdd(output_tokens, o.output_tokens);
  cached_input_tokens = SaturatingAdd(cached_input_tokens, o.cached_input_tokens);
  cost_nano_usd = SaturatingAdd(cost_nano_usd, o.cost_nano_usd);
}

absl::StatusOr<std::vector<DecodedTarget>> DecodeReport(const telemetry::TelemetryReport& report,
                                                        double relative_accuracy) {
  if (report.targets_size() > kMaxTargetsPerReport) {
    return Invalid("targets", absl::StrCat(report.targets_size(), " entries, more than ",
                                           kMaxTargetsPerReport));
  }
  if (report.has_interval_start() && report.has_interval_end() &&
      Before(report.interval_end(), report.interval_start())) {
    return Invalid("interval_end", "before interval_start");
  }
  std::vector<DecodedTarget> targets;
  targets.reserve(static_cast<size_t>(report.targets_size()));
  std::set<TargetKey> seen;
  for (int i = 0; i < report.targets_size(); ++i) {
    const std::string path = absl::StrCat("targets[", i, "]");
    absl::StatusOr<DecodedTarget> target =
        DecodeTarget(report.targets(i), path, relative_accuracy);
    if (!target.ok()) return target.status();
    if (!seen.insert(target->key).second) {
      return Invalid(path, absl::StrCat(ToString(target->key), " appears twice in the report"));
    }
    targets.push_back(*std::move(target));
  }
  return targets;
}

}  // namespace llmesh::control
