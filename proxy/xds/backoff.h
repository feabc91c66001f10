// Reconnect back-off of the discovery client: jittered exponential delays from 0.5 s to 30 s.
//
// Pure: the attempt number and a random generator in, a delay out. The client's thread calls it
// between streams; tests pass a seeded generator. Thread-safe (no state).
#pragma once

#include <chrono>
#include <cstdint>

#include "absl/random/bit_gen_ref.h"

namespace llmesh::xds {

inline constexpr std::chrono::milliseconds kMinBackoff{500};
inline constexpr std::chrono::milliseconds kMaxBackoff{30000};

// How long to wait before reconnect number `attempt` (0 for the first retry after a stream
// ended): a uniformly random time in [d, 2d) with d = min(0.5 s * 2^attempt, 15 s), so the
// delays double from [0.5 s, 1 s) and stay within [15 s, 30 s) once they reach the cap. The
// jitter spreads the reconnects of many sidecars after a control-plane restart. Millisecond
// resolution; any `attempt` is valid.
std::chrono::milliseconds BackoffDelay(uint32_t attempt, absl::BitGenRef rng);

}  // namespace llmesh::xds
