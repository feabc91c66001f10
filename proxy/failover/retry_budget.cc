#include "proxy/failover/retry_budget.h"

#include <algorithm>
#include <utility>

namespace llmesh::failover {

RetryBudget::ActiveRequest::ActiveRequest(ActiveRequest&& other) noexcept
    : budget_(std::exchange(other.budget_, nullptr)) {}

RetryBudget::ActiveRequest& RetryBudget::ActiveRequest::operator=(ActiveRequest&& other) noexcept {
  if (this != &other) {
    if (budget_ != nullptr) budget_->active_requests_.fetch_sub(1, std::memory_order_relaxed);
    budget_ = std::exchange(other.budget_, nullptr);
  }
  return *this;
}

RetryBudget::ActiveRequest::~ActiveRequest() {
  if (budget_ != nullptr) budget_->active_requests_.fetch_sub(1, std::memory_order_relaxed);
}

RetryBudget::RetryToken::RetryToken(RetryToken&& other) noexcept
    : budget_(std::exchange(other.budget_, nullptr)) {}

RetryBudget::RetryToken& RetryBudget::RetryToken::operator=(RetryToken&& other) noexcept {
  if (this != &other) {
    if (budget_ != nullptr) budget_->active_retries_.fetch_sub(1, std::memory_order_relaxed);
    budget_ = std::exchange(other.budget_, nullptr);
  }
  return *this;
}

RetryBudget::RetryToken::~RetryToken() {
  if (budget_ != nullptr) budget_->active_retries_.fetch_sub(1, std::memory_order_relaxed);
}

RetryBudget::RetryBudget(double percent, uint32_t min_concurrency)
    : percent_(std::max(percent, 0.0)), min_concurrency_(min_concurrency) {}

RetryBudget::ActiveRequest RetryBudget::StartRequest() {
  active_requests_.fetch_add(1, std::memory_order_relaxed);
  return ActiveRequest(this);
}

uint64_t RetryBudget::MaxRetries() const {
  const double share =
      percent_ * static_cast<double>(active_requests_.load(std::memory_order_relaxed)) / 100.0;
  return std::max<uint64_t>(min_concurrency_, static_cast<uint64_t>(share));
}

std::optional<RetryBudget::RetryToken> RetryBudget::TryStartRetry() {
  uint64_t retries = active_retries_.load(std::memory_order_relaxed);
  for (;;) {
    if (retries >= MaxRetries()) {
      refused_total_.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    if (active_retries_.compare_exchange_weak(retries, retries + 1, std::memory_order_relaxed)) {
      return RetryToken(this);
    }
  }
}

}  // namespace llmesh::failover
