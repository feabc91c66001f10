#include "tests/unit/proxy/provider/stream_fuzz.h"

#include "gtest/gtest.h"

namespace llmesh::provider::testing {
namespace {

std::string_view AnyToken(absl::Span<const std::string_view> tokens, FuzzRng& rng) {
  return tokens[std::uniform_int_distribution<size_t>(0, tokens.size() - 1)(rng)];
}

}  // namespace

std::string RandomBody(absl::Span<const std::string_view> tokens, FuzzRng& rng) {
  std::string body;
  const int parts = std::uniform_int_distribution<int>(0, 40)(rng);
  for (int i = 0; i < parts; ++i) {
    if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
      const int n = std::uniform_int_distribution<int>(1, 8)(rng);
      for (int j = 0; j < n; ++j) body.push_back(static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng)));
    } else {
      body += AnyToken(tokens, rng);
    }
  }
  return body;
}

std::string Mutate(std::string body, absl::Span<const std::string_view> tokens, FuzzRng& rng) {
  const int edits = std::uniform_int_distribution<int>(1, 4)(rng);
  for (int i = 0; i < edits && !body.empty(); ++i) {
    const size_t at = std::uniform_int_distribution<size_t>(0, body.size() - 1)(rng);
    switch (std::uniform_int_distribution<int>(0, 2)(rng)) {
      case 0:
        body[at] = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
        break;
      case 1:
        body.erase(at, std::uniform_int_distribution<size_t>(1, 16)(rng));
        break;
      default:
        body.insert(at, AnyToken(tokens, rng));
        break;
    }
  }
  return body;
}

std::string MutatedGolden(absl::Span<const std::string> goldens, int round, absl::Span<const std::string_view> tokens,
                          FuzzRng& rng) {
  return Mutate(goldens[static_cast<size_t>(round) % goldens.size()], tokens, rng);
}

std::vector<std::string_view> RandomSplit(std::string_view body, FuzzRng& rng) {
  std::vector<std::string_view> pieces;
  size_t at = 0;
  while (at < body.size()) {
    const size_t n = std::uniform_int_distribution<size_t>(0, 64)(rng);
    pieces.push_back(body.substr(at, n));
    at += n;
  }
  return pieces;
}

void RunFuzzRounds(uint64_t seed, int iterations, absl::FunctionRef<std::string(int, FuzzRng&)> make_body,
                   absl::FunctionRef<void(std::string_view, FuzzRng&)> check) {
  FuzzRng rng(seed);
  for (int i = 0; i < iterations; ++i) {
    const std::string body = make_body(i, rng);
    SCOPED_TRACE(::testing::Message() << "iteration " << i);
    check(body, rng);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

void FuzzRandomBodies(uint64_t seed, int iterations, absl::Span<const std::string_view> tokens,
                      absl::FunctionRef<void(std::string_view, FuzzRng&)> check) {
  RunFuzzRounds(
      seed, iterations, [&](int /*round*/, FuzzRng& rng) { return RandomBody(tokens, rng); }, check);
}

void FuzzMutatedGoldens(uint64_t seed, int iterations, absl::Span<const std::string> goldens,
                        absl::Span<const std::string_view> tokens,
                        absl::FunctionRef<void(std::string_view, FuzzRng&)> check) {
  RunFuzzRounds(
      seed, iterations, [&](int round, FuzzRng& rng) { return MutatedGolden(goldens, round, tokens, rng); }, check);
}

}  // namespace llmesh::provider::testing
