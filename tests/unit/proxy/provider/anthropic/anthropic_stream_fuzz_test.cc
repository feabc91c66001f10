// Fuzz-style robustness tests of AnthropicStreamDecoder: random and mutated upstream bodies,
// split at random points, must never crash it, and its contract must hold in both modes.
// Deterministic (fixed seeds) and bounded.
#include <array>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/provider/anthropic/anthropic_stream_decoder.h"
#include "tests/unit/proxy/provider/stream_fuzz.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

using testing::FuzzMutatedGoldens;
using testing::FuzzRandomBodies;
using testing::FuzzRng;
using testing::RandomSplit;

constexpr int kIterations = 3000;

// Pieces that make random input look like Anthropic SSE often enough to reach the deeper paths.
constexpr std::array<std::string_view, 20> kTokens = {
    "event: ",
    "data: ",
    "\n",
    "\r\n",
    "\n\n",
    ": comment\n\n",
    "message_start\n",
    "content_block_delta\n",
    "error\n",
    R"({"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":1}}})",
    R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}})",
    R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\""}})",
    R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}})",
    R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}})",
    R"({"type":"message_stop"})",
    R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
    R"({"type":"ping"})",
    "{",
    "\"",
    "\xC3\xA9"};

// Feeds `body` in random pieces to a decoder of either mode and checks the contract.
void FeedAndCheck(std::string_view body, FuzzRng& rng) {
  const bool translate = std::uniform_int_distribution<int>(0, 1)(rng) == 1;
  AnthropicStreamDecoder decoder(translate);
  StreamDecoder::Progress progress;
  bool ended = false;
  bool started = false;
  bool finished = false;
  for (std::string_view piece : RandomSplit(body, rng)) {
    decoder.Feed(piece, progress);
    if (ended) {
      ASSERT_TRUE(progress.wire.empty()) << "output after the stream ended";
      ASSERT_TRUE(progress.events.empty()) << "events after the stream ended";
    }
    if (!progress.wire.empty()) {
      ASSERT_FALSE(translate) << "wire bytes from a translating decoder";
      ASSERT_EQ(progress.wire.compare(progress.wire.size() - 2, 2, "\n\n"), 0) << "not whole events";
    }
    for (const StreamEvent& event : progress.events) {
      ASSERT_TRUE(translate) << "events from a passthrough decoder";
      if (event.kind == StreamEvent::Kind::kStart) {
        ASSERT_FALSE(started) << "a second kStart";
        started = true;
      } else {
        ASSERT_TRUE(started) << "an event before kStart";
      }
      if (event.kind == StreamEvent::Kind::kFinish) {
        ASSERT_FALSE(finished) << "a second kFinish";
        finished = true;
      }
    }
    progress.wire.clear();
    progress.events.clear();
    if (progress.failure || progress.done) ended = true;
  }
  const std::optional<UpstreamFailure> finish = decoder.Finish(progress);
  ASSERT_EQ(finish.has_value(), !progress.done) << "Finish must fail exactly when message_stop never came";
  ASSERT_FALSE(progress.done && progress.failure.has_value());
  if (translate && progress.done) {
    ASSERT_TRUE(finished) << "a finished stream without kFinish";
  }
}

TEST(AnthropicStreamFuzzTest, RandomBodiesNeverBreakTheDecoder) {
  FuzzRandomBodies(20261124, kIterations, kTokens, FeedAndCheck);
}

TEST(AnthropicStreamFuzzTest, MutatedGoldenStreamsNeverBreakTheDecoder) {
  const std::vector<std::string> goldens = {
      testing::ReadTestdata("anthropic/text_stream.sse"),
      testing::ReadTestdata("anthropic/tool_call_stream.sse"),
      testing::ReadTestdata("anthropic/thinking_stream.sse"),
      testing::ReadTestdata("anthropic/unknown_event_stream.sse"),
      testing::ReadTestdata("anthropic/midstream_error_stream.sse")};
  FuzzMutatedGoldens(7, kIterations, goldens, kTokens, FeedAndCheck);
}

TEST(AnthropicStreamFuzzTest, UnmutatedGoldenStreamsDecodeTheSameInEverySplit) {
  const std::string body = testing::ReadTestdata("anthropic/tool_call_stream.sse");
  FuzzRng rng(11);
  for (int i = 0; i < 200; ++i) {
    AnthropicStreamDecoder decoder(/*translate=*/false);
    StreamDecoder::Progress progress;
    std::string wire;
    for (std::string_view piece : RandomSplit(body, rng)) {
      decoder.Feed(piece, progress);
      wire += progress.wire;
      progress.wire.clear();
    }
    ASSERT_EQ(wire, body) << "iteration " << i;
    ASSERT_FALSE(decoder.Finish(progress).has_value());
  }
}

}  // namespace
}  // namespace llmesh::provider
