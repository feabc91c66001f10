// State the fake provider's workers share: the current script, the counters behind
// GET /_fake/stats and the last request seen.
//
// Threading: every member is safe to use from any worker. Counters are atomics; the script is
// replaced under a mutex but read through a version counter so workers only lock when it
// changed; the last request lives in one slot per worker, each with its own (uncontended)
// mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/server.h"
#include "tests/fakes/fake_provider/fake_options.h"
#include "tests/fakes/fake_provider/fake_script.h"

namespace llmesh::fakes {

struct FakeStats {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> chat{0};
  std::atomic<uint64_t> embeddings{0};
  std::atomic<uint64_t> models{0};
  std::atomic<uint64_t> scripted_failures{0};
  std::atomic<int64_t> in_flight{0};
  // accepted_connections() of the server at the last reset.
  std::atomic<uint64_t> connections_baseline{0};
};

class ScriptStore {
 public:
  // Replaces the script (nullopt clears it) and restarts its use count.
  void Replace(std::optional<FakeScript> script);
  // Changes whenever the script is replaced. Lock-free.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  // The current script, or null. Takes the mutex: call only when version() changed.
  std::shared_ptr<const FakeScript> Load() const;
  // Consumes one use of a counted script (count > 0); true if this request gets the script.
  bool TakeUse(const FakeScript& script) {
    return script.count <= 0 || remaining_.fetch_sub(1, std::memory_order_acq_rel) > 0;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const FakeScript> script_;
  std::atomic<uint64_t> version_{0};
  std::atomic<int64_t> remaining_{0};
};

struct LastRequest {
  int64_t when = 0;  // steady_clock ticks; orders slots of different workers
  std::string path;
  std::string authorization;
  std::string body;
};

class LastRequestBoard {
 public:
  explicit LastRequestBoard(size_t workers);
  void Record(size_t worker, std::string_view path, std::string_view authorization,
              std::string_view body);
  std::optional<LastRequest> Latest() const;
  void Clear();

 private:
  struct Slot {
    std::mutex mu;
    LastRequest value;
  };
  std::vector<std::unique_ptr<Slot>> slots_;
};

struct FakeState {
  explicit FakeState(FakeProviderOptions provider_options);

  // The GET /_fake/stats body.
  std::string StatsJson() const;
  // POST /_fake/reset: clears the script, the counters and the last request.
  void Reset();

  const FakeProviderOptions options;
  FakeStats stats;
  ScriptStore script;
  LastRequestBoard last_request;
  // Set before the server starts; read for the connection counts.
  const http::HttpServer* server = nullptr;
};

}  // namespace llmesh::fakes
