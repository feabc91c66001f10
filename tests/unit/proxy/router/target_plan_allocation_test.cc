// Checks that planning a route of up to 8 targets does not touch the heap, by counting calls to
// the replaceable global allocation functions while a plan is built.
#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "gtest/gtest.h"
#include "proxy/router/target_plan.h"

namespace {

std::atomic<bool> counting{false};
std::atomic<int> allocations{0};

}  // namespace

void* operator new(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace llmesh::router {
namespace {

using failover::TargetState;

TEST(TargetPlanAllocationTest, PlansEightTargetsWithoutHeapAllocation) {
  std::vector<PlanCandidate> candidates;
  for (uint32_t i = 0; i < 8; ++i) {
    candidates.push_back(PlanCandidate{
        i % 3, i + 1, i == 5 ? TargetState::kEjected : TargetState::kHealthy, Duration::zero()});
  }
  std::mt19937_64 engine(1);
  for (PlanStrategy strategy : {PlanStrategy::kFailover, PlanStrategy::kWeighted}) {
    allocations = 0;
    counting = true;
    const TargetPlan plan = PlanTargets(candidates, strategy, absl::BitGenRef(engine));
    counting = false;
    EXPECT_EQ(plan.order.size(), 7u);
    EXPECT_EQ(allocations.load(), 0);
  }
}

TEST(TargetPlanAllocationTest, CountsAllocationsOfLargerRoutes) {
  // Proves the counter works: nine targets spill the inline storage.
  std::vector<PlanCandidate> candidates(9);
  std::mt19937_64 engine(1);
  allocations = 0;
  counting = true;
  const TargetPlan plan = PlanTargets(candidates, PlanStrategy::kFailover, absl::BitGenRef(engine));
  counting = false;
  EXPECT_EQ(plan.order.size(), 9u);
  EXPECT_GT(allocations.load(), 0);
}

}  // namespace
}  // namespace llmesh::router
