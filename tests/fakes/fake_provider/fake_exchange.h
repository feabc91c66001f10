// The response side of one planned API request of the fake provider: sends the flavor's
// bodies, errors and streams with the plan's faults applied. This is where the script's
// latency, close_before_response, hang, status / body / error_array, reset_after_events,
// error_after_events, malformed, keep_alive_comments, first_chunk_ms and chunk_interval_ms
// take effect, the same way for every flavor.
//
// Threading: lives in one request's coroutine on its worker; not thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "common/http/server.h"
#include "tests/fakes/fake_provider/fake_api.h"
#include "tests/fakes/fake_provider/fake_plan.h"

namespace llmesh::fakes {

inline constexpr std::string_view kJsonContentType = "application/json";

// Waits `ms` without blocking the worker; false if the wait was cancelled (server stop).
asio::awaitable<bool> Delay(int64_t ms);

class Exchange {
 public:
  // `api`, `writer` and the bytes of `request_id` ("req_" + 24 hex digits) must outlive the
  // exchange.
  Exchange(const FlavorApi& api, http::ResponseWriter& writer, std::string_view request_id)
      : api_(api), writer_(writer), request_id_(request_id) {}

  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // Takes the request's plan. Before it, the exchange behaves as an unscripted request.
  void Adopt(Plan plan);
  const FakeScript& script() const { return plan_.script; }
  // True when the plan's failure part applies.
  bool failing() const { return plan_.fail; }
  std::string_view request_id() const { return request_id_; }
  // The 24 hex digits of the request id (the flavors' message and completion ids).
  std::string_view id_hex() const { return request_id_.substr(4); }

  // Waits the plan's latency, then applies close_before_response, hang or a scripted error
  // status (the `body` override or the flavor's error for the status with the error_*
  // overrides, array-wrapped with error_array). Returns true when the request still needs its
  // answer, false when it was answered or dropped.
  asio::awaitable<bool> RunScriptedStart();

  // Sends a successful (200) body, or its scripted corruption: reset_after_events sends the
  // head and half the body then resets; error_after_events replaces it with the flavor's
  // stream error body; malformed cuts it in half.
  asio::awaitable<void> SendBody(std::string body,
                                 std::string_view content_type = kJsonContentType);

  // Sends a client error the request itself caused (bad JSON, a missing field). The plan's
  // extra headers do not apply.
  asio::awaitable<void> SendError(const ApiError& error);

  // Streams `events` (200, `content_type`, each event its own HTTP chunk) with the plan's
  // keep-alive comments first, then its pacing and corruption: malformed sends
  // events.RenderMalformed and breaks off;
  // reset_after_events N sends N events and resets; error_after_events N sends
  // min(N, size-1) events, the error event and ends cleanly.
  asio::awaitable<void> Stream(std::string_view content_type, const EventSource& events);

 private:
  asio::awaitable<void> SendScriptedError();
  // The flavor's headers for `status`, plus the script's extra headers when its failure part
  // applies and `scripted`.
  void SetHeaders(boost::beast::http::fields& fields, int status, bool scripted) const;
  // The error of a scripted error event: the flavor's StreamError with the error_* overrides.
  ApiError ScriptedStreamError() const;

  const FlavorApi& api_;
  http::ResponseWriter& writer_;
  const std::string_view request_id_;
  Plan plan_;
  std::string_view retry_after_;  // the plan's retry-after header value
};

}  // namespace llmesh::fakes
