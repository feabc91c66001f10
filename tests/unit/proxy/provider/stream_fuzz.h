// Shared machinery of the stream decoders' fuzz-style tests (stream_fuzz_test.cc and the
// anthropic/ and gemini/ ones): random bodies built from format-specific tokens, mutations of
// golden streams, random splits of a body into Feed() pieces, and the bounded, seeded loop that
// runs a check on each body.
//
// Test-only code; deterministic for a given seed. Threading: single-threaded (one test's rng).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/types/span.h"

namespace llmesh::provider::testing {

using FuzzRng = std::mt19937_64;

// Up to 40 parts, each either 1-8 random bytes or one of `tokens` (pieces that make random input
// look like the format often enough to reach the decoder's deeper paths).
std::string RandomBody(absl::Span<const std::string_view> tokens, FuzzRng& rng);

// `body` with 1-4 random edits: a byte replaced, up to 16 bytes erased, or one of `tokens`
// inserted.
std::string Mutate(std::string body, absl::Span<const std::string_view> tokens, FuzzRng& rng);

// Round `round`'s pick of `goldens` (they take turns), mutated.
std::string MutatedGolden(absl::Span<const std::string> goldens, int round, absl::Span<const std::string_view> tokens,
                          FuzzRng& rng);

// `body` cut into pieces of 0-64 bytes (empty pieces included), in order; views into `body`.
std::vector<std::string_view> RandomSplit(std::string_view body, FuzzRng& rng);

// Runs `iterations` rounds on one rng seeded with `seed`: each round makes a body with
// `make_body(round, rng)` and checks it with `check(body, rng)` under a trace naming the
// round. Stops at the first fatal failure.
void RunFuzzRounds(uint64_t seed, int iterations, absl::FunctionRef<std::string(int, FuzzRng&)> make_body,
                   absl::FunctionRef<void(std::string_view, FuzzRng&)> check);

// RunFuzzRounds over RandomBody(tokens).
void FuzzRandomBodies(uint64_t seed, int iterations, absl::Span<const std::string_view> tokens,
                      absl::FunctionRef<void(std::string_view, FuzzRng&)> check);

// RunFuzzRounds over MutatedGolden(goldens, round, tokens).
void FuzzMutatedGoldens(uint64_t seed, int iterations, absl::Span<const std::string> goldens,
                        absl::Span<const std::string_view> tokens,
                        absl::FunctionRef<void(std::string_view, FuzzRng&)> check);

}  // namespace llmesh::provider::testing
