#include "proxy/xds/backoff.h"

#include <algorithm>

#include "absl/random/distributions.h"

namespace llmesh::xds {

std::chrono::milliseconds BackoffDelay(uint32_t attempt, absl::BitGenRef rng) {
  const int64_t cap = kMaxBackoff.count() / 2;
  // 2^6 * 500 ms is past the cap already; clamping the exponent keeps the shift defined.
  const int64_t base = std::min<int64_t>(kMinBackoff.count() << std::min<uint32_t>(attempt, 6), cap);
  return std::chrono::milliseconds(absl::Uniform<int64_t>(rng, base, 2 * base));
}

}  // namespace llmesh::xds
