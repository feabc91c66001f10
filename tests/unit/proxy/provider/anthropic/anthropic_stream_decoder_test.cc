#include "proxy/provider/anthropic/anthropic_stream_decoder.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Describe(const StreamEvent& event) {
  switch (event.kind) {
    case StreamEvent::Kind::kStart: return absl::StrCat("start ", event.id, " ", event.name);
    case StreamEvent::Kind::kText: return absl::StrCat("text ", event.text);
    case StreamEvent::Kind::kReasoning: return absl::StrCat("reasoning ", event.text);
    case StreamEvent::Kind::kToolCallStart:
      return absl::StrCat("tool ", event.tool_index, " ", event.id, " ", event.name);
    case StreamEvent::Kind::kToolCallArguments: return absl::StrCat("args ", event.tool_index, " ", event.text);
    case StreamEvent::Kind::kFinish:
      return absl::StrCat("finish ", std::string(FinishReasonName(event.finish_reason)));
    case StreamEvent::Kind::kUsage:
      return absl::StrCat("usage prompt=", event.usage.prompt_tokens, " completion=", event.usage.completion_tokens,
                          " cached=", event.usage.cached_tokens, " reasoning=", event.usage.reasoning_tokens);
  }
  return "?";
}

struct Outcome {
  std::string wire;
  std::vector<std::string> events;
  bool content = false;
  bool done = false;
  std::optional<UpstreamFailure> failure;  // from Feed
  std::optional<UpstreamFailure> finish;   // from Finish
};

// Feeds `body` in pieces of `piece` bytes, taking the decoder's output after every piece.
Outcome Decode(std::string_view body, bool translate, size_t piece = 7) {
  AnthropicStreamDecoder decoder(translate);
  StreamDecoder::Progress progress;
  Outcome outcome;
  for (size_t at = 0; at < body.size(); at += piece) {
    decoder.Feed(body.substr(at, piece), progress);
    outcome.wire += progress.wire;
    progress.wire.clear();
    for (const StreamEvent& event : progress.events) outcome.events.push_back(Describe(event));
    progress.events.clear();
  }
  outcome.finish = decoder.Finish(progress);
  outcome.content = progress.content;
  outcome.done = progress.done;
  outcome.failure = progress.failure;
  return outcome;
}

TEST(AnthropicStreamDecoderTest, PassesTextEventsThroughVerbatimInAnySplit) {
  const std::string body = testing::ReadTestdata("anthropic/text_stream.sse");
  for (size_t piece : {size_t{1}, size_t{7}, size_t{64}, body.size()}) {
    SCOPED_TRACE(piece);
    const Outcome outcome = Decode(body, /*translate=*/false, piece);
    EXPECT_EQ(outcome.wire, body);
    EXPECT_TRUE(outcome.events.empty());
    EXPECT_TRUE(outcome.content);
    EXPECT_TRUE(outcome.done);
    EXPECT_FALSE(outcome.failure.has_value());
    EXPECT_FALSE(outcome.finish.has_value());
  }
}

TEST(AnthropicStreamDecoderTest, ReportsUsageWithCacheTokensInPromptTokens) {
  AnthropicStreamDecoder decoder(/*translate=*/false);
  StreamDecoder::Progress progress;
  decoder.Feed(testing::ReadTestdata("anthropic/text_stream.sse"), progress);
  EXPECT_EQ(decoder.usage().prompt_tokens, 130u);  // 25 + 100 read + 5 written
  EXPECT_EQ(decoder.usage().cached_tokens, 100u);
  EXPECT_EQ(decoder.usage().completion_tokens, 15u);
}

TEST(AnthropicStreamDecoderTest, MessageStartAndPingAreNotContent) {
  const std::string body = testing::ReadTestdata("anthropic/text_stream.sse");
  const size_t first_delta = body.find("event: content_block_delta");
  AnthropicStreamDecoder decoder(/*translate=*/false);
  StreamDecoder::Progress progress;
  decoder.Feed(std::string_view(body).substr(0, first_delta), progress);
  EXPECT_FALSE(progress.content);
  EXPECT_THAT(progress.wire, HasSubstr("event: ping\ndata: {\"type\":\"ping\"}\n\n"));
  decoder.Feed(std::string_view(body).substr(first_delta), progress);
  EXPECT_TRUE(progress.content);
}

TEST(AnthropicStreamDecoderTest, TranslatesTextIntoCanonicalEvents) {
  const Outcome outcome = Decode(testing::ReadTestdata("anthropic/text_stream.sse"), /*translate=*/true);
  EXPECT_TRUE(outcome.wire.empty());
  EXPECT_THAT(outcome.events, ElementsAre("start msg_1 claude-sonnet-4-5", "text Hello", "text !", "finish stop",
                                          "usage prompt=130 completion=15 cached=100 reasoning=0"));
  EXPECT_TRUE(outcome.content);
  EXPECT_TRUE(outcome.done);
  EXPECT_FALSE(outcome.finish.has_value());
}

TEST(AnthropicStreamDecoderTest, TranslatesToolUseBlocksWithInputJsonDeltas) {
  const Outcome outcome = Decode(testing::ReadTestdata("anthropic/tool_call_stream.sse"), /*translate=*/true);
  EXPECT_THAT(outcome.events,
              ElementsAre("start msg_2 claude-sonnet-4-5", "text Let me check.", "tool 0 toolu_01K get_weather",
                          R"(args 0 {"city": "Par)", R"(args 0 is"})", "tool 1 toolu_02L get_time", "args 1 {}",
                          "finish tool_calls", "usage prompt=340 completion=47 cached=0 reasoning=0"));
  EXPECT_TRUE(outcome.done);
}

TEST(AnthropicStreamDecoderTest, AToolUseBlockStartIsContent) {
  const std::string body = testing::ReadTestdata("anthropic/tool_call_stream.sse");
  std::string start_only = body.substr(0, body.find("event: content_block_start"));
  start_only += "event: content_block_start\n"
                R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}})"
                "\n\n";
  AnthropicStreamDecoder decoder(/*translate=*/true);
  StreamDecoder::Progress progress;
  decoder.Feed(start_only, progress);
  EXPECT_TRUE(progress.content);
}

TEST(AnthropicStreamDecoderTest, TranslatesThinkingIntoReasoningAndSkipsSignatures) {
  const Outcome outcome = Decode(testing::ReadTestdata("anthropic/thinking_stream.sse"), /*translate=*/true);
  EXPECT_THAT(outcome.events, ElementsAre("start msg_3 claude-sonnet-4-5", "reasoning Two plus two.", "text 4",
                                          "finish length", "usage prompt=10 completion=30 cached=0 reasoning=20"));
}

TEST(AnthropicStreamDecoderTest, IgnoresUnknownEventTypesAndDeltaTypes) {
  const std::string body = testing::ReadTestdata("anthropic/unknown_event_stream.sse");
  const Outcome translated = Decode(body, /*translate=*/true);
  EXPECT_THAT(translated.events, ElementsAre("start msg_4 claude-sonnet-4-5", "text ok", "finish stop",
                                             "usage prompt=3 completion=2 cached=0 reasoning=0"));
  EXPECT_TRUE(translated.done);
  EXPECT_FALSE(translated.finish.has_value());

  const Outcome passed = Decode(body, /*translate=*/false);
  EXPECT_THAT(passed.wire, HasSubstr("event: brand_new_event\ndata: {\"type\":\"brand_new_event\",\"detail\":{\"x\":1}}\n\n"));
  EXPECT_THAT(passed.wire, ::testing::Not(HasSubstr("a comment line")));
  EXPECT_TRUE(passed.done);
}

TEST(AnthropicStreamDecoderTest, FailsOnAnErrorEventAfterContent) {
  for (bool translate : {false, true}) {
    SCOPED_TRACE(translate);
    const Outcome outcome = Decode(testing::ReadTestdata("anthropic/midstream_error_stream.sse"), translate);
    ASSERT_TRUE(outcome.failure.has_value());
    EXPECT_EQ(outcome.failure->kind, FailureKind::kOverloaded);
    EXPECT_EQ(outcome.failure->http_status, 200);
    EXPECT_EQ(outcome.failure->type, "overloaded_error");
    EXPECT_EQ(outcome.failure->message, "Overloaded");
    EXPECT_TRUE(outcome.content);
    EXPECT_FALSE(outcome.done);
    ASSERT_TRUE(outcome.finish.has_value());
    EXPECT_EQ(outcome.finish->kind, FailureKind::kOverloaded);
    // Nothing after the error event is decoded, and the error event itself is not forwarded.
    EXPECT_THAT(outcome.wire, ::testing::Not(HasSubstr("ignored")));
    EXPECT_THAT(outcome.wire, ::testing::Not(HasSubstr("event: error")));
    if (translate) {
      EXPECT_THAT(outcome.events, ElementsAre("start msg_5 claude-sonnet-4-5", "text Partial"));
    }
  }
}

TEST(AnthropicStreamDecoderTest, FailsBeforeContentOnAnEarlyErrorEvent) {
  const Outcome outcome = Decode(testing::ReadTestdata("anthropic/early_error_stream.sse"), /*translate=*/false);
  ASSERT_TRUE(outcome.failure.has_value());
  EXPECT_EQ(outcome.failure->kind, FailureKind::kOverloaded);
  EXPECT_FALSE(outcome.content);
}

TEST(AnthropicStreamDecoderTest, ResetsWhenTheStreamEndsBeforeMessageStop) {
  const Outcome outcome = Decode(testing::ReadTestdata("anthropic/truncated_stream.sse"), /*translate=*/true);
  EXPECT_FALSE(outcome.failure.has_value());
  EXPECT_FALSE(outcome.done);
  ASSERT_TRUE(outcome.finish.has_value());
  EXPECT_EQ(outcome.finish->kind, FailureKind::kReset);
  EXPECT_EQ(outcome.finish->message, "upstream stream ended before message_stop");
  EXPECT_THAT(outcome.events, ElementsAre("start msg_7 claude-sonnet-4-5"));
}

TEST(AnthropicStreamDecoderTest, ReportsTruncatedJsonInAnEventAsMalformed) {
  const Outcome outcome = Decode(testing::ReadTestdata("anthropic/truncated_json_event_stream.sse"), false);
  ASSERT_TRUE(outcome.failure.has_value());
  EXPECT_EQ(outcome.failure->kind, FailureKind::kMalformed);
  EXPECT_EQ(outcome.failure->message, "upstream stream carried an event that is not a JSON object");
  EXPECT_TRUE(outcome.wire.empty());
}

TEST(AnthropicStreamDecoderTest, ReportsAJsonErrorBodyInsteadOfSse) {
  const Outcome outcome = Decode(testing::ReadTestdata("anthropic/error_with_200.json"), /*translate=*/false);
  ASSERT_TRUE(outcome.failure.has_value());
  EXPECT_EQ(outcome.failure->kind, FailureKind::kOverloaded);
  ASSERT_TRUE(outcome.finish.has_value());
  EXPECT_EQ(outcome.finish->kind, FailureKind::kOverloaded);
}

TEST(AnthropicStreamDecoderTest, ReportsAJsonMessageInsteadOfSseAsMalformed) {
  const Outcome outcome = Decode(testing::ReadTestdata("anthropic/text_response.json"), /*translate=*/true);
  ASSERT_TRUE(outcome.failure.has_value());
  EXPECT_EQ(outcome.failure->kind, FailureKind::kMalformed);
  EXPECT_EQ(outcome.failure->message, "upstream answered a stream request with JSON instead of SSE");
}

TEST(AnthropicStreamDecoderTest, IgnoresInputAfterMessageStop) {
  std::string body = testing::ReadTestdata("anthropic/text_stream.sse");
  body += "event: content_block_delta\ndata: garbage\n\n";
  const Outcome outcome = Decode(body, /*translate=*/true);
  EXPECT_TRUE(outcome.done);
  EXPECT_FALSE(outcome.failure.has_value());
  EXPECT_FALSE(outcome.finish.has_value());
}

TEST(AnthropicStreamDecoderTest, FinishesAStreamThatSentMessageStopWithoutMessageDelta) {
  const std::string body =
      "event: message_start\n"
      R"(data: {"type":"message_start","message":{"id":"msg_8","model":"m","usage":{"input_tokens":2,"output_tokens":1}}})"
      "\n\nevent: content_block_start\n"
      R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t1","name":"f","input":{}}})"
      "\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  const Outcome outcome = Decode(body, /*translate=*/true);
  EXPECT_THAT(outcome.events, ElementsAre("start msg_8 m", "tool 0 t1 f", "finish tool_calls",
                                          "usage prompt=2 completion=1 cached=0 reasoning=0"));
  EXPECT_TRUE(outcome.done);
}

}  // namespace
}  // namespace llmesh::provider
