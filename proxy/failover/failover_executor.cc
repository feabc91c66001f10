#include "proxy/failover/failover.h"

#include <algorithm>
#include <cmath>

#include <boost/asio/this_coro.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/absl_view.h"
#include "common/log/log.h"
#include "proxy/failover/classification.h"
#include "proxy/failover/cooldown.h"
#include "proxy/xds/telemetry_accumulator.h"

namespace llmesh::failover {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using provider::FailureKind;
using provider::UpstreamFailure;
using SteadyTime = std::chrono::steady_clock::time_point;

// Largest upstream body accepted for a non-streamed answer or an error.
constexpr size_t kMaxUpstreamBody = 64u << 20;
constexpr size_t kMaxErrorBody = 1u << 20;

SteadyTime SteadyNow() { return std::chrono::steady_clock::now(); }

// A cancelled operation means the request itself is going away (client gone, server stopping),
// not that the provider failed.
bool Cancelled(const absl::Status& status) { return status.code() == absl::StatusCode::kCancelled; }

// Transport statuses follow the upstream layer's contract (see upstream.h).
UpstreamFailure FromTransport(const absl::Status& status) {
  UpstreamFailure failure;
  switch (status.code()) {
    case absl::StatusCode::kUnavailable: failure.kind = FailureKind::kConnect; break;
    case absl::StatusCode::kAborted: failure.kind = FailureKind::kReset; break;
    case absl::StatusCode::kDeadlineExceeded: failure.kind = FailureKind::kTimeout; break;
    default: failure.kind = FailureKind::kMalformed; break;
  }
  failure.message = std::string(status.message());
  return failure;
}

}  // namespace

struct FailoverExecutor::Attempt {
  Attempt(const config::RouteSpec& route, uint16_t index, const provider::ClientRequest& request,
          provider::EncodedRequest encoded, ResponseSink& sink, const AnswerInfo& answer,
          SteadyTime total_deadline)
      : route(route), index(index), target(route.targets[index]), request(request),
        encoded(std::move(encoded)), sink(sink), answer(answer), start(SteadyNow()),
        total_deadline(total_deadline) {}

  const config::RouteSpec& route;
  uint16_t index;
  const config::TargetSpec& target;
  const provider::ClientRequest& request;
  provider::EncodedRequest encoded;  // moved into the upstream request by Open
  ResponseSink& sink;
  AnswerInfo answer;
  SteadyTime start;
  SteadyTime total_deadline;

  bool succeeded = false;
  bool committed = false;    // bytes of this attempt reached the client
  bool client_gone = false;
  int status = 0;
  std::optional<UpstreamFailure> failure;
  std::optional<std::chrono::microseconds> time_to_first_token;
  provider::Usage usage;

  SteadyTime Deadline(std::chrono::milliseconds after_start) const {
    return std::min(start + after_start, total_deadline);
  }

  void FailTransport(const absl::Status& status) {
    if (Cancelled(status)) {
      client_gone = true;
    } else {
      failure = FromTransport(status);
    }
  }
};

FailoverExecutor::FailoverExecutor(upstream::UpstreamPool& pool, const Clock& clock,
                                   xds::TelemetryAccumulator* telemetry)
    : pool_(pool), clock_(clock), telemetry_(telemetry) {}

asio::awaitable<ExecutionResult> FailoverExecutor::Execute(const config::RouteSpec& route,
                                                           absl::Span<const uint16_t> order,
                                                           const provider::ClientRequest& request,
                                                           Priority priority, ResponseSink& sink) {
  ExecutionResult result;
  const SteadyTime request_start = SteadyNow();
  const SteadyTime total_deadline = request_start + route.timeouts.total;
  // After a context-length failure only a strictly larger window may help.
  uint64_t min_context_window = 0;
  // A failover is counted when the next attempt actually starts: (from target, reason).
  std::optional<std::pair<uint16_t, FailureKind>> pending_failover;
  // Why the first target passed over could not take the request.
  std::optional<std::string> unsupported;

  for (uint16_t index : order) {
    if (result.answer.attempts >= route.max_attempts) break;
    if (SteadyNow() >= total_deadline) break;
    const config::TargetSpec& target = route.targets[index];
    if (min_context_window > 0 && target.model->context_window <= min_context_window) continue;
    // The plan was drawn when the request arrived; another worker may have cooled this target.
    const TargetState state = target.health->State(clock_.Now());
    if (result.answer.attempts > 0 && state == TargetState::kCoolingDown) continue;
    // The budget guards providers against retry storms: a retry into the provider that just
    // failed this request, or a probe of an unhealthy one. Moving a request from a failing
    // provider to a healthy other one adds no load to the failing side, and refusing it would
    // fail a request that can be served.
    const bool guarded = result.answer.target != nullptr &&
                         (result.answer.target->provider == target.provider || state != TargetState::kHealthy);
    // A target that cannot express the request (n>1 for Anthropic, embeddings for a chat-only
    // API, a modality the format lacks) is passed over before any budget or attempt is spent:
    // it is not the provider's failure, and the request is not changed to fit it.
    absl::StatusOr<provider::EncodedRequest> encoded = Encode(target, request);
    if (!encoded.ok()) {
      Log(log::Level::kInfo, "target skipped",
          {{"route", route.name},
           {"provider", target.provider->name},
           {"model", target.model->name},
           {"reason", encoded.status().message()}});
      if (!unsupported) unsupported = std::string(encoded.status().message());
      continue;
    }
    std::optional<RetryBudget::RetryToken> retry_token;
    if (result.answer.attempts > 0 && guarded && priority != Priority::kCritical) {
      retry_token = target.retry_budget->TryStartRetry();
      if (!retry_token) {
        target.provider->retry_budget_exhausted->Inc();
        continue;
      }
    }
    RetryBudget::ActiveRequest active = target.retry_budget->StartRequest();
    if (pending_failover) {
      route.target_series[pending_failover->first].failovers[static_cast<int>(pending_failover->second)]->Inc();
    }

    ++result.answer.attempts;
    result.answer.target = &target;
    Attempt attempt(route, index, request, *std::move(encoded), sink, result.answer, total_deadline);
    if (request.stream) {
      co_await RunStream(attempt);
    } else {
      co_await RunNonStream(attempt);
    }
    Record(attempt);

    if (attempt.time_to_first_token) {
      // Reported from the start of the request, earlier failed attempts included.
      result.time_to_first_token = *attempt.time_to_first_token +
          std::chrono::duration_cast<std::chrono::microseconds>(attempt.start - request_start);
    }
    if (attempt.succeeded) {
      result.answered = true;
      result.status = attempt.status;
      result.usage = attempt.usage;
      result.cost_usd = target.model->CostUsd(attempt.usage);
      result.failure.reset();
      co_return result;
    }
    if (attempt.client_gone) {
      result.client_gone = true;
      result.answered = attempt.committed;
      result.status = attempt.committed ? 200 : 499;
      co_return result;
    }
    result.failure = std::move(attempt.failure);
    if (attempt.committed) {
      // Failed after the commit point: the sink already ended the stream with an error event.
      result.answered = true;
      result.status = 200;
      co_return result;
    }
    switch (Classify(result.failure->kind)) {
      case Verdict::kFail:
        co_return result;
      case Verdict::kLargerContextOnly:
        min_context_window = std::max<uint64_t>(min_context_window, std::max<uint64_t>(target.model->context_window, 1));
        break;
      case Verdict::kNextTarget:
      case Verdict::kSkipTarget:
        break;
    }
    pending_failover.emplace(index, result.failure->kind);
  }
  if (result.answer.attempts == 0 && unsupported) {
    result.failure = UpstreamFailure{FailureKind::kInvalidRequest, 0, "invalid_request_error", "unsupported_request",
                                     absl::StrCat("No target of route '", AbslView(route.name),
                                                  "' can serve this request: ", AbslView(*unsupported)),
                                     std::nullopt};
  }
  co_return result;
}

absl::StatusOr<provider::EncodedRequest> FailoverExecutor::Encode(const config::TargetSpec& target,
                                                                  const provider::ClientRequest& request) {
  const config::ProviderSpec& provider = *target.provider;
  const provider::TargetCall call{provider.base_path, target.model->name, provider.api_key,
                                  target.model->max_output_tokens, provider.api_version};
  return provider.adapter->Encode(request, call);
}

asio::awaitable<std::unique_ptr<upstream::Exchange>> FailoverExecutor::Open(Attempt& attempt) {
  const config::ProviderSpec& provider = *attempt.target.provider;
  provider::EncodedRequest& encoded = attempt.encoded;
  // HTTP/1.1 keeps the connection by default; the adapters name each header once; the pool
  // adds Content-Length.
  http::request<http::string_body> upstream_request{encoded.method, std::move(encoded.target), 11};
  upstream_request.insert(http::field::host, provider.host_header);
  for (auto& [name, value] : encoded.headers) upstream_request.insert(name, value);
  upstream_request.body() = std::move(encoded.body);

  const SteadyTime connect_deadline = attempt.Deadline(attempt.route.timeouts.connect);
  const SteadyTime write_deadline = attempt.Deadline(
      attempt.request.stream ? attempt.route.timeouts.first_byte : attempt.route.timeouts.per_try);
  absl::StatusOr<std::unique_ptr<upstream::Exchange>> exchange =
      co_await pool_.Send(provider.endpoint, upstream_request, connect_deadline, write_deadline);
  if (!exchange.ok()) {
    attempt.FailTransport(exchange.status());
    co_return nullptr;
  }
  co_return *std::move(exchange);
}

asio::awaitable<void> FailoverExecutor::RunNonStream(Attempt& attempt) {
  std::unique_ptr<upstream::Exchange> exchange = co_await Open(attempt);
  if (exchange == nullptr) co_return;
  const auto& timeouts = attempt.route.timeouts;
  // A non-streamed answer arrives whole once generation ends, so per_try (not first_byte)
  // bounds the wait for its head.
  const SteadyTime try_deadline = attempt.Deadline(timeouts.per_try);
  if (absl::Status s = co_await exchange->ReadHead(try_deadline); !s.ok()) {
    attempt.FailTransport(s);
    co_return;
  }
  const int status = static_cast<int>(exchange->status());
  const bool success = status >= 200 && status < 300;
  absl::StatusOr<std::string> body =
      co_await exchange->ReadAll(try_deadline, success ? kMaxUpstreamBody : kMaxErrorBody);
  if (!body.ok()) {
    attempt.FailTransport(body.status());
    co_return;
  }
  const provider::ProviderAdapter& adapter = *attempt.target.provider->adapter;
  if (!success) {
    attempt.failure = adapter.DecodeError(status, exchange->head(), *body, absl::Now());
    co_return;
  }
  provider::DecodedResponse decoded = adapter.Decode(attempt.request, status, *body);
  if (decoded.failure) {
    attempt.failure = std::move(decoded.failure);
    co_return;
  }
  exchange.reset();  // the connection goes back to the pool before the client write
  attempt.usage = decoded.usage;
  attempt.committed = true;
  if (absl::Status s = co_await attempt.sink.SendBody(attempt.answer, status, std::move(decoded)); !s.ok()) {
    attempt.client_gone = true;
    co_return;
  }
  attempt.status = status;
  attempt.succeeded = true;
}

asio::awaitable<void> FailoverExecutor::RunStream(Attempt& attempt) {
  std::unique_ptr<upstream::Exchange> exchange = co_await Open(attempt);
  if (exchange == nullptr) co_return;
  const auto& timeouts = attempt.route.timeouts;
  const SteadyTime first_deadline = attempt.Deadline(timeouts.first_byte);
  if (absl::Status s = co_await exchange->ReadHead(first_deadline); !s.ok()) {
    attempt.FailTransport(s);
    co_return;
  }
  const provider::ProviderAdapter& adapter = *attempt.target.provider->adapter;
  const int status = static_cast<int>(exchange->status());
  if (status < 200 || status >= 300) {
    absl::StatusOr<std::string> body = co_await exchange->ReadAll(first_deadline, kMaxErrorBody);
    attempt.failure = adapter.DecodeError(status, exchange->head(), body.ok() ? *body : std::string(),
                                          absl::Now());
    co_return;
  }

  std::unique_ptr<provider::StreamDecoder> decoder = adapter.NewStreamDecoder(attempt.request);
  provider::StreamDecoder::Progress progress;
  std::optional<UpstreamFailure> failure;
  // Each pass waits on a deadline and every read either makes progress or ends the loop; the
  // cap only guards against a misbehaving peer trickling empty reads.
  for (size_t reads = 0;; ++reads) {
    const SteadyTime deadline = attempt.committed
                                    ? std::min(SteadyNow() + timeouts.idle, attempt.total_deadline)
                                    : first_deadline;
    absl::StatusOr<std::string_view> bytes = co_await exchange->ReadSome(deadline);
    if (!bytes.ok()) {
      if (Cancelled(bytes.status())) {
        attempt.client_gone = true;
        co_return;
      }
      failure = FromTransport(bytes.status());
      break;
    }
    if (bytes->empty()) {
      failure = decoder->Finish(progress);
      if (!failure && !attempt.committed && (!progress.wire.empty() || !progress.events.empty())) {
        progress.content = true;
      }
      if (!failure) progress.done = true;
    } else {
      decoder->Feed(*bytes, progress);
    }
    if (!attempt.committed && (progress.content || (progress.done && !progress.failure))) {
      attempt.time_to_first_token =
          std::chrono::duration_cast<std::chrono::microseconds>(SteadyNow() - attempt.start);
      if (!(co_await attempt.sink.StartStream(attempt.answer)).ok()) {
        attempt.client_gone = true;
        co_return;
      }
      attempt.committed = true;
    }
    // The last bytes of an upstream answer already complete go out with the stream's end.
    const bool last = progress.done && !progress.failure && exchange->complete();
    if (attempt.committed && !last && (!progress.wire.empty() || !progress.events.empty())) {
      absl::Status written = co_await attempt.sink.WriteStream(progress);
      if (!written.ok()) {
        attempt.client_gone = true;
        co_return;
      }
    }
    if (progress.failure) {
      failure = std::move(progress.failure);
      break;
    }
    if (progress.done || bytes->empty()) break;
    if (reads > (64u << 20)) {
      failure = UpstreamFailure{FailureKind::kMalformed, status, "", "", "stream never ended", std::nullopt};
      break;
    }
  }

  if (failure) {
    attempt.failure = std::move(failure);
    if (attempt.committed) co_await attempt.sink.FailStream(*attempt.failure);
    co_return;
  }
  // Read to the end of the body so the connection can be reused; a failure here is not the
  // answer's problem.
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<std::string_view> rest = co_await exchange->ReadSome(SteadyNow() + timeouts.idle);
    if (!rest.ok() || rest->empty()) break;
  }
  attempt.usage = decoder->usage();
  if (!(co_await attempt.sink.FinishStream(progress)).ok()) {
    attempt.client_gone = true;
    co_return;
  }
  attempt.status = status;
  attempt.succeeded = true;
}

void FailoverExecutor::Record(const Attempt& attempt) {
  const config::TargetSpec& target = attempt.target;
  const config::TargetSeries& series = *target.series;
  const MonoTime now = clock_.Now();
  const auto elapsed = SteadyNow() - attempt.start;
  const double cost_usd = target.model->CostUsd(attempt.usage);
  series.attempt_duration->Observe(std::chrono::duration<double>(elapsed).count());
  if (telemetry_ != nullptr) RecordTelemetry(attempt, elapsed, cost_usd);
  if (attempt.succeeded || (attempt.client_gone && !attempt.failure)) {
    if (attempt.succeeded) {
      series.attempt_success->Inc();
      target.health->RecordOutcome(now, std::nullopt);
    }
    series.prompt_tokens->Inc(attempt.usage.prompt_tokens);
    series.completion_tokens->Inc(attempt.usage.completion_tokens);
    series.cost_usd->Add(cost_usd);
    return;
  }
  if (!attempt.failure) return;
  const UpstreamFailure& failure = *attempt.failure;
  series.attempt_failure[static_cast<int>(failure.kind)]->Inc();
  if (failure.retry_after &&
      (failure.kind == FailureKind::kRateLimited || failure.kind == FailureKind::kOverloaded)) {
    target.health->RecordRateLimit(now, *failure.retry_after, DrawCooldownJitter(rng_),
                                   attempt.route.max_cooldown);
  }
  target.health->RecordOutcome(now, failure.kind);
  Log(log::Level::kDebug, "attempt failed",
      {{"route", attempt.route.name},
       {"provider", target.provider->name},
       {"model", target.model->name},
       {"reason", provider::FailureKindName(failure.kind)},
       {"status", failure.http_status}});
}

void FailoverExecutor::RecordTelemetry(const Attempt& attempt,
                                       std::chrono::steady_clock::duration elapsed,
                                       double cost_usd) {
  using Result = xds::AttemptOutcome::Result;
  xds::AttemptOutcome outcome;
  if (attempt.succeeded) {
    outcome.result = Result::kSuccess;
  } else if (attempt.failure) {
    outcome.result = Result::kFailure;
    outcome.failure = attempt.failure->kind;
  } else if (attempt.client_gone) {
    outcome.result = Result::kCancelled;
  } else {
    return;  // ended without an outcome; Record counts nothing for it either
  }
  // Attempts after the first start only once an earlier one of the request failed.
  outcome.retry = attempt.answer.attempts > 1;
  outcome.latency = std::chrono::duration_cast<std::chrono::microseconds>(elapsed);
  outcome.time_to_first_token = attempt.time_to_first_token;
  outcome.usage = attempt.usage;
  const double cost_nano = cost_usd * 1e9;
  outcome.cost_nano_usd = cost_nano > 0 ? static_cast<uint64_t>(std::llround(cost_nano)) : 0;
  telemetry_->Record(attempt.target.provider->name, attempt.target.model->name, outcome);
}

}  // namespace llmesh::failover
