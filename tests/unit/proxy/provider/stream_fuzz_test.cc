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
#include "tests/unit/proxy/provider/stream_fuzz.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

using testing::FuzzMutatedGoldens;
using testing::FuzzRandomBodies;
using testing::FuzzRng;
using testing::MutatedGolden;
using testing::RandomBody;
using testing::RandomSplit;
using testing::RunFuzzRounds;

constexpr int kIterations = 3000;

// Pieces that make random input look like SSE often enough to reach the deeper paths.
constexpr std::array<std::string_view, 16> kTokens = {
    "data: ", "data:", "\n", "\r\n", "\r", "\n\n", ": keep-alive\n\n", "event: error\n",
    "[DONE]", R"({"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]})",
    R"({"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}})", R"({"error":{"type":"overloaded_error"}})",
    "{", "}", "\"", "\xC3\xA9"};

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

std::vector<std::string> GoldenStreams() {
  return {testing::ReadTestdata("openai/text_stream.sse"), testing::ReadTestdata("openai/tool_call_stream.sse"),
          testing::ReadTestdata("openai/deepseek_keepalive_stream.sse"),
          testing::ReadTestdata("openai/azure_prompt_filter_stream.sse"),
          testing::ReadTestdata("openai/groq_x_groq_stream.sse")};
}

// Feeds `body` in random pieces and checks the decoder's contract.
void FeedAndCheck(std::string_view body, FuzzRng& rng, bool translate = false) {
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
  FuzzRandomBodies(20261124, kIterations, kTokens,
                   [](std::string_view body, FuzzRng& rng) { FeedAndCheck(body, rng); });
}

TEST(StreamFuzzTest, MutatedGoldenStreamsNeverBreakTheDecoder) {
  const std::vector<std::string> goldens = GoldenStreams();
  FuzzMutatedGoldens(7, kIterations, goldens, kTokens,
                     [](std::string_view body, FuzzRng& rng) { FeedAndCheck(body, rng); });
}

TEST(StreamFuzzTest, MutatedGoldenStreamsNeverBreakTheTranslatingDecoder) {
  const std::vector<std::string> goldens = GoldenStreams();
  RunFuzzRounds(
      11, kIterations,
      [&](int i, FuzzRng& rng) {
        return i % 4 == 0 ? RandomBody(kTokens, rng)
                          : MutatedGolden(goldens, i, kTokens, rng);
      },
      [](std::string_view body, FuzzRng& rng) { FeedAndCheck(body, rng, /*translate=*/true); });
}

TEST(StreamFuzzTest, RandomBytesNeverBreakTheSseParser) {
  FuzzRng rng(99);
  for (int i = 0; i < kIterations; ++i) {
    const std::string body = RandomBody(kTokens, rng);
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
