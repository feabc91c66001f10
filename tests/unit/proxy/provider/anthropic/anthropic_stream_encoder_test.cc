#include "proxy/provider/anthropic/anthropic_stream_encoder.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/provider/anthropic/anthropic_stream_decoder.h"
#include "tests/unit/proxy/provider/provider_test_support.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

using testing::ContentEvent;
using testing::FinishEvent;
using ::testing::HasSubstr;
using testing::StartEvent;
using testing::ToolCallStartEvent;
using testing::UsageEvent;

std::string EncodeAll(const std::vector<StreamEvent>& events) {
  AnthropicStreamEncoder encoder;
  std::string out;
  for (const StreamEvent& event : events) encoder.Encode(event, out);
  encoder.End(out);
  return out;
}

std::vector<StreamEvent> TextEvents() {
  return {StartEvent("chatcmpl-1", "gpt-4o"),
          ContentEvent(StreamEvent::Kind::kReasoning, "Hmm."),
          ContentEvent(StreamEvent::Kind::kText, "Hel"),
          ContentEvent(StreamEvent::Kind::kText, ""),
          ContentEvent(StreamEvent::Kind::kText, "lo \"you\""),
          FinishEvent(FinishReason::kStop, Usage{30, 4, 10, 0}),
          UsageEvent(Usage{30, 5, 10, 0})};
}

std::vector<StreamEvent> ToolCallEvents() {
  return {StartEvent("chatcmpl-2", "gpt-4o"),
          ContentEvent(StreamEvent::Kind::kText, "Let me check."),
          ToolCallStartEvent(0, "call_abc", "get_weather"),
          ContentEvent(StreamEvent::Kind::kToolCallArguments, "{\"city\":", 0),
          ContentEvent(StreamEvent::Kind::kToolCallArguments, "\"Paris\"}", 0),
          ToolCallStartEvent(1, "call_def", "get_time"),
          ContentEvent(StreamEvent::Kind::kToolCallArguments, "", 1),
          ContentEvent(StreamEvent::Kind::kToolCallArguments, "{}", 1),
          FinishEvent(FinishReason::kToolCalls),
          UsageEvent(Usage{50, 12, 0, 0})};
}

TEST(AnthropicStreamEncoderTest, RendersTextAsATextBlockAndLeavesReasoningOut) {
  EXPECT_EQ(EncodeAll(TextEvents()), testing::ReadTestdata("anthropic/encoded_text_stream.sse"));
}

TEST(AnthropicStreamEncoderTest, RendersToolCallsAsToolUseBlocksWithInputJsonDeltas) {
  EXPECT_EQ(EncodeAll(ToolCallEvents()), testing::ReadTestdata("anthropic/encoded_tool_call_stream.sse"));
}

TEST(AnthropicStreamEncoderTest, MapsFinishReasonsToStopReasons) {
  const std::pair<FinishReason, std::string> cases[] = {
      {FinishReason::kStop, "end_turn"},
      {FinishReason::kLength, "max_tokens"},
      {FinishReason::kToolCalls, "tool_use"},
      {FinishReason::kContentFilter, "refusal"},
  };
  for (const auto& [reason, stop_reason] : cases) {
    EXPECT_THAT(EncodeAll({StartEvent("c", "m"), FinishEvent(reason)}),
                HasSubstr("\"delta\":{\"stop_reason\":\"" + stop_reason + "\",\"stop_sequence\":null}"));
  }
}

TEST(AnthropicStreamEncoderTest, EndClosesTheOpenBlockAndSendsTheMissingMessageDelta) {
  EXPECT_EQ(EncodeAll({StartEvent("c", "m"), ContentEvent(StreamEvent::Kind::kText, "cut")}),
            "event: message_start\n"
            R"(data: {"type":"message_start","message":{"id":"msg_c","type":"message","role":"assistant","model":"m",)"
            R"("content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,)"
            R"("cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}})"
            "\n\n"
            "event: content_block_start\n"
            R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"
            "\n\n"
            "event: content_block_delta\n"
            R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"cut"}})"
            "\n\n"
            "event: content_block_stop\n"
            R"(data: {"type":"content_block_stop","index":0})"
            "\n\n"
            "event: message_delta\n"
            R"(data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":)"
            R"({"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}})"
            "\n\n"
            "event: message_stop\n"
            R"(data: {"type":"message_stop"})"
            "\n\n");
}

TEST(AnthropicStreamEncoderTest, EndAloneStillWritesAWellFormedMessage) {
  const std::string out = EncodeAll({});
  EXPECT_THAT(out, HasSubstr(R"("id":"msg_llmesh")"));
  EXPECT_EQ(out.find("event: message_start\n"), 0u);
  EXPECT_THAT(out, HasSubstr("event: message_delta\n"));
  EXPECT_TRUE(out.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
  EXPECT_EQ(out.find("content_block"), std::string::npos);
}

TEST(AnthropicStreamEncoderTest, EndsAToolTurnWithToolUseWhenNoFinishCame) {
  const std::string out = EncodeAll({StartEvent("c", "m"), ToolCallStartEvent(0, "call_1", "f")});
  EXPECT_THAT(out, HasSubstr(R"("stop_reason":"tool_use")"));
  EXPECT_THAT(out, HasSubstr("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"));
}

TEST(AnthropicStreamEncoderTest, WritesNothingAfterEnd) {
  AnthropicStreamEncoder encoder;
  std::string out;
  encoder.Encode(StartEvent("c", "m"), out);
  encoder.End(out);
  const std::string ended = out;
  encoder.Encode(ContentEvent(StreamEvent::Kind::kText, "late"), out);
  encoder.End(out);
  EXPECT_EQ(out, ended);
}

TEST(AnthropicStreamEncoderTest, SendsLateArgumentsToTheirOwnToolBlock) {
  const std::string out =
      EncodeAll({StartEvent("c", "m"), ToolCallStartEvent(0, "call_1", "f"), ToolCallStartEvent(1, "call_2", "g"),
                 ContentEvent(StreamEvent::Kind::kToolCallArguments, "{}", 0),
                 ContentEvent(StreamEvent::Kind::kToolCallArguments, "{}", 7)});
  EXPECT_THAT(out, HasSubstr(R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{}"}})"));
  EXPECT_EQ(out.find(R"("index":7)"), std::string::npos);
}

TEST(AnthropicStreamEncoderTest, DecodesBackIntoTheSameCanonicalEvents) {
  AnthropicStreamDecoder decoder(/*translate=*/true);
  StreamDecoder::Progress progress;
  decoder.Feed(EncodeAll(ToolCallEvents()), progress);
  EXPECT_TRUE(progress.done);
  EXPECT_FALSE(progress.failure.has_value());
  const std::vector<StreamEvent>& events = progress.events;
  ASSERT_EQ(events.size(), 9u);
  EXPECT_EQ(events[0].kind, StreamEvent::Kind::kStart);
  EXPECT_EQ(events[0].id, "msg_chatcmpl-2");
  EXPECT_EQ(events[1].text, "Let me check.");
  EXPECT_EQ(events[2].kind, StreamEvent::Kind::kToolCallStart);
  EXPECT_EQ(events[2].id, "call_abc");
  EXPECT_EQ(events[3].text, "{\"city\":");
  EXPECT_EQ(events[4].text, "\"Paris\"}");
  EXPECT_EQ(events[5].tool_index, 1u);
  EXPECT_EQ(events[6].text, "{}");
  EXPECT_EQ(events[7].finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(events[8].kind, StreamEvent::Kind::kUsage);
  EXPECT_EQ(events[8].usage.prompt_tokens, 50u);
  EXPECT_EQ(events[8].usage.completion_tokens, 12u);
}

}  // namespace
}  // namespace llmesh::provider
