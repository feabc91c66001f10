// Envoy's retry budget for one provider: caps concurrent retries relative to active requests.
//
// The FailoverExecutor holds an ActiveRequest on the provider's budget for every attempt it has
// in flight there (first tries and retries alike), and before sending a retry (any attempt after
// the request's first) to that provider it asks TryStartRetry for a RetryToken, held until the
// retry attempt ends. A retry is allowed while the provider's active retries are fewer than
// max(min_concurrency, percent% of its active requests); otherwise it is refused and counted
// (the llmesh_retry_budget_exhausted_total metric), and the executor moves on or fails.
// Ask for the token before starting the retry's ActiveRequest, so the retry does not count
// towards its own allowance. DESIGN.md §3: 20% of active requests, at least 3 concurrent.
//
// Threading: one RetryBudget per provider, shared by all workers; lock-free, any thread. The
// counters are plain counts that publish no other memory, so relaxed ordering is enough; the
// retry count is raised by compare-and-swap against the limit, so concurrent callers never take
// it past the limit computed from the active count they read.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

namespace llmesh::failover {

class RetryBudget {
 public:
  // RAII: counts one in-flight attempt to this provider until destroyed. Move-only; a
  // moved-from ActiveRequest counts nothing. Must not outlive its RetryBudget.
  class ActiveRequest {
   public:
    ActiveRequest(ActiveRequest&& other) noexcept;
    ActiveRequest& operator=(ActiveRequest&& other) noexcept;
    ActiveRequest(const ActiveRequest&) = delete;
    ActiveRequest& operator=(const ActiveRequest&) = delete;
    ~ActiveRequest();

   private:
    friend class RetryBudget;
    explicit ActiveRequest(RetryBudget* budget) : budget_(budget) {}
    RetryBudget* budget_;
  };

  // RAII: counts one in-flight retry to this provider until destroyed. Move-only; a moved-from
  // RetryToken counts nothing. Must not outlive its RetryBudget.
  class RetryToken {
   public:
    RetryToken(RetryToken&& other) noexcept;
    RetryToken& operator=(RetryToken&& other) noexcept;
    RetryToken(const RetryToken&) = delete;
    RetryToken& operator=(const RetryToken&) = delete;
    ~RetryToken();

   private:
    friend class RetryBudget;
    explicit RetryToken(RetryBudget* budget) : budget_(budget) {}
    RetryBudget* budget_;
  };

  // `percent` of active requests may be retries (negative counts as 0); `min_concurrency`
  // retries are always allowed regardless of load.
  explicit RetryBudget(double percent = 20, uint32_t min_concurrency = 3);
  RetryBudget(const RetryBudget&) = delete;
  RetryBudget& operator=(const RetryBudget&) = delete;

  // Counts an attempt in flight to this provider.
  ActiveRequest StartRequest();

  // A token when a retry fits the budget; otherwise nullopt, and the refusal is counted.
  std::optional<RetryToken> TryStartRetry();

  // The current allowance: max(min_concurrency, floor(percent% × active requests)).
  uint64_t MaxRetries() const;

  uint64_t active_requests() const { return active_requests_.load(std::memory_order_relaxed); }
  uint64_t active_retries() const { return active_retries_.load(std::memory_order_relaxed); }
  // Retries refused since construction.
  uint64_t refused_total() const { return refused_total_.load(std::memory_order_relaxed); }

 private:
  const double percent_;
  const uint32_t min_concurrency_;
  std::atomic<uint64_t> active_requests_{0};
  std::atomic<uint64_t> active_retries_{0};
  std::atomic<uint64_t> refused_total_{0};
};

}  // namespace llmesh::failover
