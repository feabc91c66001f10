// The fake provider's request handler: one per worker, the same for every flavor. It serves
// the control endpoints, counts API requests, gives each a request id, refuses unknown routes
// and bad credentials, plans the script, applies its scripted start (latency, close, hang,
// error status) and hands the rest to the flavor (FlavorApi::Serve).
//
// Order per API request: count it → 404 for an unknown route → the flavor's admission (401,
// missing headers) → plan (400 for a bad x-fake-* header) → latency → close / hang / error
// status → the flavor's answer (with reset / error event / malformed).
//
// Threading: used only on its worker's thread. Shared state (script, counters, last request)
// lives in FakeState and is safe across workers; the FlavorApi is immutable.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/http/server.h"
#include "tests/fakes/fake_provider/fake_api.h"
#include "tests/fakes/fake_provider/fake_plan.h"
#include "tests/fakes/fake_provider/fake_state.h"

namespace llmesh::fakes {

class FakeHandler final : public http::Handler {
 public:
  // `state` and `api` must outlive the handler. `worker` is the worker's index (part of the
  // request ids).
  FakeHandler(FakeState& state, const FlavorApi& api, size_t worker)
      : state_(state), api_(api), worker_(worker), planner_(state) {}

  asio::awaitable<void> Handle(http::Request& request, http::ResponseWriter& writer) override;
  // The flavor's error body for `status` with `reason` as its message.
  http::Response Reject(boost::beast::http::status status, std::string_view reason,
                        std::string_view target) override;

 private:
  // "req_" + worker (4 hex digits) + sequence (20 hex digits); written into `out`, which the
  // returned view points into.
  std::string_view NextRequestId(std::array<char, 28>& out);

  FakeState& state_;
  const FlavorApi& api_;
  const size_t worker_;
  uint64_t sequence_ = 0;
  Planner planner_;
};

}  // namespace llmesh::fakes
