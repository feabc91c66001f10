// What one API request of the fake provider gets: the script (when it applies to this request)
// with the request's x-fake-* overrides, and whether the script's failure part applies
// (fail_probability). Planning is the step between counting a request and answering it.
//
// Threading: one Planner per worker, used only on that worker's thread; it reads the shared
// ScriptStore lock-free unless the script changed.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "common/http/server.h"
#include "tests/fakes/fake_provider/fake_script.h"
#include "tests/fakes/fake_provider/fake_state.h"

namespace llmesh::fakes {

struct Plan {
  FakeScript script;
  // The failure part (status, hang, close, reset, error event, malformed, blocked, extra
  // headers) applies to this request.
  bool fail = false;
};

class Planner {
 public:
  // `state` must outlive the planner.
  explicit Planner(FakeState& state) : state_(state) {}

  // Takes one use of a counted script, applies the x-fake-* headers of `request` and rolls
  // fail_probability; counts a scripted failure in the stats. INVALID_ARGUMENT naming the
  // header for a bad x-fake-* value, or when the result asks for something the flavor cannot
  // do (CheckScriptForFlavor).
  absl::StatusOr<Plan> MakePlan(const http::Request& request);

 private:
  FakeState& state_;
  absl::BitGen random_;
  // This worker's copy of the current script, refreshed when the store's version changes.
  uint64_t script_version_ = 0;
  std::shared_ptr<const FakeScript> script_;
};

}  // namespace llmesh::fakes
