// Fuzz-style robustness tests: random and mutated upstream bodies, split at random points,
// must never crash the SSE parser or the stream decoder, and the decoder's contract must hold.
// Deterministic (fixed seeds) and bounded.
#include <array>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/provider/common/sse.h"
#include "proxy/provider/openai/openai_stream_decoder.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

constexpr int kIterations = 3000;

// Pieces that make random input look like SSE often enough to reach the deeper paths.
constexpr std::array<std::string_view, 16> kTokens = {
    "data: ", "data:", "\n", "\r\n", "\r", "\n\n", ": keep-alive\n\n", "event: error\n",
    "[DONE]", R"({"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]})",
    R"({"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}})", R"({"error":{"type":"overloaded_error"}})",
    "{", "}", "\"", "\xC3\xA9"};

std::string RandomBody(std::mt19937_64& rng) {
  std::string body;
  const int parts = std::uniform_int_distribution<int>(0, 40)(rng);
  for (int i = 0; i < parts; ++i) {
    if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
      const int n = std::uniform_int_distribution<int>(1, 8)(rng);
      for (int j = 0; j < n; ++j) body.push_back(static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng)));
    } else {
      body += kTokens[std::uniform_int_distribution<size_t>(0, kTokens.size() - 1)(rng)];
    }
  }
  return body;
}

std::string Mutate(std::string body, std::mt19937_64& rng) {
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
        body.insert(at, kTokens[std::uniform_int_distribution<size_t>(0, kTokens.size() - 1)(rng)]);
        break;
    }
  }
  return body;
}

std::vector<std::string_view> RandomSplit(std::string_view body, std::mt19937_64& rng) {
  std::vector<std::string_view> pieces;
  size_t at = 0;
  while (at < body.size()) {
    const size_t n = std::uniform_int_distribution<size_t>(0, 64)(rng);
    pieces.push_back(body.substr(at, n));
    at += n;
  }
  return pieces;
}

// Checks the canonical event order (canonical.h): kStart once and first, tool arguments only
// for started calls, kFinish at most once, kUsage only after it and last.
struct EventOrder {
  bool started = false;
  bool finished = false;
  bool usage = false;
  uint32_t tool_calls = 0;

  void Check(const std::vector<StreamEvent>& events) {
    for (const StreamEvent& event : events) {
      ASSERT_FALSE(usage) << "event after kUsage";
      ASSERT_EQ(event.kind == StreamEvent::Kind::kStart, !started) << "kStart must come first, once";
      started = true;
      switch (event.kind) {
        case StreamEvent::Kind::kToolCallStart:
          ASSERT_EQ(event.tool_index, tool_calls) << "tool calls are numbered in start order";
          ASSERT_FALSE(event.id.empty());
          ++tool_calls;
          break;
        case StreamEvent::Kind::kToolCallArguments:
          ASSERT_LT(event.tool_index, tool_calls) << "arguments of a call that never started";
          break;
        case StreamEvent::Kind::kFinish:
          ASSERT_FALSE(finished) << "second kFinish";
          finished = true;
          break;
        case StreamEvent::Kind::kUsage:
          ASSERT_TRUE(finished) << "kUsage before kFinish";
          usage = true;
          break;
        default:
          break;
      }
    }
  }
};

// Feeds `body` in random pieces and checks the decoder's contract.
void FeedAndCheck(std::string_view body, std::mt19937_64& rng, bool translate = false) {
  OpenAiStreamDecoder decoder(std::uniform_int_distribution<int>(0, 1)(rng) == 1, translate);
  StreamDecoder::Progress progress;
  EventOrder order;
  bool ended = false;
  for (std::string_view piece : RandomSplit(body, rng)) {
    decoder.Feed(piece, progress);
    if (ended) {
      ASSERT_TRUE(progress.wire.empty()) << "output after the stream ended";
      ASSERT_TRUE(progress.events.empty()) << "events after the stream ended";
    }
    if (translate) {
      ASSERT_TRUE(progress.wire.empty()) << "wire bytes from a translating decoder";
      order.Check(progress.events);
      if (::testing::Test::HasFatalFailure()) return;
      progress.events.clear();
    }
    if (!progress.wire.empty()) {
      ASSERT_EQ(progress.wire.compare(0, 6, "data: "), 0);
      ASSERT_EQ(progress.wire.compare(progress.wire.size() - 2, 2, "\n\n"), 0);
    }
    progress.wire.clear();
    if (progress.failure || progress.done) ended = true;
  }
  const std::optional<UpstreamFailure> finish = decoder.Finish(progress);
  ASSERT_EQ(finish.has_value(), !progress.done) << "Finish must fail exactly when [DONE] never came";
  ASSERT_FALSE(progress.done && progress.failure.has_value());
}

TEST(StreamFuzzTest, RandomBodiesNeverBreakTheDecoder) {
  std::mt19937_64 rng(20261124);
  for (int i = 0; i < kIterations; ++i) {
    const std::string body = RandomBody(rng);
    SCOPED_TRACE(::testing::Message() << "iteration " << i);
    FeedAndCheck(body, rng);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(StreamFuzzTest, MutatedGoldenStreamsNeverBreakTheDecoder) {
  const std::vector<std::string> goldens = {
      testing::ReadTestdata("openai/text_stream.sse"),
      testing::ReadTestdata("openai/tool_call_stream.sse"),
      testing::ReadTestdata("openai/deepseek_keepalive_stream.sse"),
      testing::ReadTestdata("openai/azure_prompt_filter_stream.sse"),
      testing::ReadTestdata("openai/groq_x_groq_stream.sse")};
  std::mt19937_64 rng(7);
  for (int i = 0; i < kIterations; ++i) {
    const std::string body = Mutate(goldens[static_cast<size_t>(i) % goldens.size()], rng);
    SCOPED_TRACE(::testing::Message() << "iteration " << i);
    FeedAndCheck(body, rng);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(StreamFuzzTest, MutatedGoldenStreamsNeverBreakTheTranslatingDecoder) {
  const std::vector<std::string> goldens = {
      testing::ReadTestdata("openai/text_stream.sse"),
      testing::ReadTestdata("openai/tool_call_stream.sse"),
      testing::ReadTestdata("openai/deepseek_keepalive_stream.sse"),
      testing::ReadTestdata("openai/azure_prompt_filter_stream.sse"),
      testing::ReadTestdata("openai/groq_x_groq_stream.sse")};
  std::mt19937_64 rng(11);
  for (int i = 0; i < kIterations; ++i) {
    const std::string body = i % 4 == 0 ? RandomBody(rng) : Mutate(goldens[static_cast<size_t>(i) % goldens.size()], rng);
    SCOPED_TRACE(::testing::Message() << "iteration " << i);
    FeedAndCheck(body, rng, /*translate=*/true);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(StreamFuzzTest, RandomBytesNeverBreakTheSseParser) {
  std::mt19937_64 rng(99);
  for (int i = 0; i < kIterations; ++i) {
    const std::string body = RandomBody(rng);
    SseParser whole_parser(/*max_event_bytes=*/256);
    SseParser split_parser(/*max_event_bytes=*/256);
    std::vector<std::string> whole;
    std::vector<std::string> split;
    const bool whole_ok = whole_parser.Feed(body, [&](const SseEvent& e) {
      whole.push_back(std::string(e.event) + '|' + std::string(e.data));
      return true;
    });
    bool split_ok = true;
    for (std::string_view piece : RandomSplit(body, rng)) {
      split_ok = split_parser.Feed(piece, [&](const SseEvent& e) {
                   split.push_back(std::string(e.event) + '|' + std::string(e.data));
                   return true;
                 }) &&
                 split_ok;
    }
    // Splits change nothing unless the size limit cut the stream short.
    if (whole_ok && split_ok) {
      ASSERT_EQ(whole, split) << "iteration " << i;
    }
  }
}

}  // namespace
}  // namespace llmesh::provider
