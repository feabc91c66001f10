// FailoverExecutor: the attempt loop of one request, between the router (which hands it an
// ordered plan of targets) and the provider adapters + upstream pool (which it drives).
//
// It tries targets in plan order until one answers, applying DESIGN §3: classification of every
// failure, the commit point (failover stays invisible until the first content byte goes to the
// client; streams are held until the first real content event), the connect / first_byte /
// idle / per_try / total deadlines, cooldowns from rate-limit hints (the request moves on at
// once, it never sleeps), outlier bookkeeping and the retry budget. It writes the client's
// response through a ResponseSink and returns what happened; turning a failure into an HTTP
// error is the sink's job (one place: the codec).
//
// Threading: one executor per worker; Execute runs on that worker's io_context. The snapshot,
// route and request must outlive the Execute coroutine.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "common/clock.h"
#include "proxy/config/config_snapshot.h"
#include "proxy/provider/failure.h"
#include "proxy/provider/provider.h"
#include "proxy/upstream/upstream.h"

namespace llmesh::xds {
class TelemetryAccumulator;
}  // namespace llmesh::xds

namespace llmesh::failover {

// Identity of the attempt that answers (or last failed), for the x-llmesh-* headers.
struct AnswerInfo {
  const config::TargetSpec* target = nullptr;  // nullptr when no attempt was made
  uint32_t attempts = 0;
};

// Where the executor writes the client's response. Implemented by the codec for the client's
// API shape; used only on the worker's executor.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // A complete non-streamed answer: `decoded.body` already in the client's format, or the
  // canonical `decoded.chat` / `decoded.embeddings` for the sink to render.
  virtual boost::asio::awaitable<absl::Status> SendBody(const AnswerInfo& answer, int status,
                                                        provider::DecodedResponse decoded) = 0;
  // The commit point of a stream: the response head is decided (the sink may send it together
  // with the first WriteStream, so a client gone now shows in that call).
  virtual boost::asio::awaitable<absl::Status> StartStream(const AnswerInfo& answer) = 0;
  // Forwards what the decoder produced at once — `progress.wire` as it is, or `progress.events`
  // rendered in the client's format — and clears both. UNAVAILABLE when the client went away.
  virtual boost::asio::awaitable<absl::Status> WriteStream(provider::StreamDecoder::Progress& progress) = 0;
  // Forwards what the decoder produced last (as WriteStream; possibly nothing) and ends a
  // committed stream cleanly, in one write where the protocol allows.
  virtual boost::asio::awaitable<absl::Status> FinishStream(provider::StreamDecoder::Progress& last) = 0;
  // Ends a committed stream with an error event in the client's format (never a clean end).
  virtual boost::asio::awaitable<void> FailStream(const provider::UpstreamFailure& failure) = 0;
};

enum class Priority : uint8_t { kNormal, kCritical, kBatch };

// What the executor did; the codec answers the client from it when `answered` is false.
struct ExecutionResult {
  AnswerInfo answer;
  bool answered = false;        // the sink carried a complete answer (success, or a failed stream)
  bool client_gone = false;     // the client disconnected; nothing more can be sent
  int status = 0;               // HTTP status sent (answered) or to send
  // Why no target answered, when !answered: the last failure, or none if nothing was tried.
  std::optional<provider::UpstreamFailure> failure;
  // Every target was cooling down; the client should come back after this long.
  std::optional<std::chrono::milliseconds> retry_after;
  std::optional<std::chrono::microseconds> time_to_first_token;
  provider::Usage usage;
  double cost_usd = 0;
};

class FailoverExecutor {
 public:
  // `pool` is the worker's upstream pool; `clock` drives the decision logic. `telemetry`, when
  // not null, is the worker's accumulator every attempt's outcome is recorded into for the
  // control plane; it must outlive the executor.
  FailoverExecutor(upstream::UpstreamPool& pool, const Clock& clock,
                   xds::TelemetryAccumulator* telemetry = nullptr);

  // Runs `request` on the targets of `route` in the order given (indexes into route.targets),
  // writing the answer to `sink`. Never throws.
  boost::asio::awaitable<ExecutionResult> Execute(const config::RouteSpec& route,
                                                  absl::Span<const uint16_t> order,
                                                  const provider::ClientRequest& request,
                                                  Priority priority, ResponseSink& sink);

 private:
  struct Attempt;
  boost::asio::awaitable<void> RunNonStream(Attempt& attempt);
  boost::asio::awaitable<void> RunStream(Attempt& attempt);
  // The target's adapter encoding of `request`; FAILED_PRECONDITION when the target cannot
  // express it.
  static absl::StatusOr<provider::EncodedRequest> Encode(const config::TargetSpec& target,
                                                         const provider::ClientRequest& request);
  // Sends the attempt's encoded request; on failure sets attempt.failure and returns null.
  boost::asio::awaitable<std::unique_ptr<upstream::Exchange>> Open(Attempt& attempt);
  // Health, cooldown and metric bookkeeping of a finished attempt.
  void Record(const Attempt& attempt);
  // The attempt's outcome into telemetry_ (not null), by telemetry.proto's counting rule.
  void RecordTelemetry(const Attempt& attempt, std::chrono::steady_clock::duration elapsed,
                       double cost_usd);

  upstream::UpstreamPool& pool_;
  const Clock& clock_;
  xds::TelemetryAccumulator* telemetry_;
  absl::BitGen rng_;
};

}  // namespace llmesh::failover
