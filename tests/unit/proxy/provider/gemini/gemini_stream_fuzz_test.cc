// Fuzz-style robustness test of the Gemini stream decoder: random and mutated upstream bodies,
// split at random points, must never crash it, and its contract must hold. Deterministic
// (fixed seeds) and bounded.
#include <array>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/provider/gemini/gemini_stream_decoder.h"
#include "tests/unit/proxy/provider/stream_fuzz.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

using testing::FuzzMutatedGoldens;
using testing::FuzzRandomBodies;
using testing::FuzzRng;
using testing::RandomSplit;

constexpr int kIterations = 3000;

// Pieces that make random input look like a Gemini stream often enough to reach the deeper paths.
constexpr std::array<std::string_view, 18> kTokens = {
    "data: ", "data:", "\n", "\r\n", "\r", "\n\n", ": keep-alive\n\n",
    R"({"candidates":[{"content":{"parts":[{"text":"x"}],"role":"model"},"index":0}]})",
    R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"a":1}}}]},"finishReason":"STOP"}]})",
    R"({"candidates":[{"finishReason":"SAFETY"}],"usageMetadata":{"promptTokenCount":1,"thoughtsTokenCount":2}})",
    R"({"promptFeedback":{"blockReason":"OTHER"}})", R"({"error":{"code":503,"status":"UNAVAILABLE"}})",
    R"([{"error":{"code":429}}])", "{", "}", "[", "\"", "\xC3\xA9"};

// Feeds `body` in random pieces and checks the decoder's contract: events follow the canonical
// order, nothing comes after a failure, and Finish succeeds exactly when it appended the finish.
void FeedAndCheck(std::string_view body, FuzzRng& rng) {
  GeminiStreamDecoder decoder;
  StreamDecoder::Progress progress;
  std::vector<StreamEvent> events;
  bool failed = false;
  for (std::string_view piece : RandomSplit(body, rng)) {
    decoder.Feed(piece, progress);
    if (failed) {
      ASSERT_TRUE(progress.events.empty()) << "events after a failure";
    }
    events.insert(events.end(), progress.events.begin(), progress.events.end());
    progress.events.clear();
    ASSERT_FALSE(progress.done) << "done before the connection closed";
    if (progress.failure) failed = true;
  }
  const std::optional<UpstreamFailure> finish = decoder.Finish(progress);
  ASSERT_EQ(finish.has_value(), !progress.done);
  if (failed) {
    ASSERT_TRUE(finish.has_value()) << "Finish must repeat a failure reported by Feed";
    ASSERT_EQ(finish->kind, progress.failure->kind);
  }
  ASSERT_FALSE(progress.done && progress.failure.has_value());
  if (progress.done) {
    ASSERT_TRUE(progress.content);
  }
  events.insert(events.end(), progress.events.begin(), progress.events.end());

  size_t starts = 0;
  size_t finishes = 0;
  size_t usages = 0;
  uint32_t next_tool = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const StreamEvent& event = events[i];
    switch (event.kind) {
      case StreamEvent::Kind::kStart:
        ASSERT_EQ(i, 0u) << "kStart must come first";
        ++starts;
        break;
      case StreamEvent::Kind::kToolCallStart:
        ASSERT_EQ(event.tool_index, next_tool++);
        ASSERT_FALSE(event.id.empty());
        [[fallthrough]];
      case StreamEvent::Kind::kText:
      case StreamEvent::Kind::kReasoning:
      case StreamEvent::Kind::kToolCallArguments:
        ASSERT_EQ(starts, 1u);
        ASSERT_EQ(finishes, 0u) << "content after the finish";
        break;
      case StreamEvent::Kind::kFinish:
        ++finishes;
        break;
      case StreamEvent::Kind::kUsage:
        ASSERT_EQ(finishes, 1u) << "kUsage before kFinish";
        ++usages;
        break;
    }
  }
  ASSERT_LE(starts, 1u);
  ASSERT_EQ(finishes, progress.done ? 1u : 0u);
  ASSERT_EQ(usages, finishes);
}

TEST(GeminiStreamFuzzTest, RandomBodiesNeverBreakTheDecoder) {
  FuzzRandomBodies(20261124, kIterations, kTokens, FeedAndCheck);
}

TEST(GeminiStreamFuzzTest, MutatedGoldenStreamsNeverBreakTheDecoder) {
  const std::vector<std::string> goldens = {
      testing::ReadTestdata("gemini/text_stream.sse"),
      testing::ReadTestdata("gemini/function_call_stream.sse"),
      testing::ReadTestdata("gemini/unknown_fields_stream.sse"),
      testing::ReadTestdata("gemini/blocked_prompt_stream.sse"),
      testing::ReadTestdata("gemini/midstream_error_stream.sse")};
  FuzzMutatedGoldens(7, kIterations, goldens, kTokens, FeedAndCheck);
}

}  // namespace
}  // namespace llmesh::provider
