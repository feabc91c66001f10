#include "proxy/provider/openai/openai_stream_encoder.h"

#include <boost/json/parse.hpp>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/provider/openai/openai_stream_decoder.h"
#include "tests/unit/proxy/provider/provider_test_support.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

using testing::ContentEvent;
using testing::FinishEvent;
using testing::StartEvent;
using testing::ToolCallStartEvent;
using testing::UsageEvent;

constexpr int64_t kCreated = 1715000000;

std::string EncodeAll(const std::vector<StreamEvent>& events, bool include_usage) {
  OpenAiStreamEncoder encoder(include_usage, kCreated);
  std::string out;
  for (const StreamEvent& event : events) encoder.Encode(event, out);
  encoder.End(out);
  return out;
}

// An Anthropic answer with thinking, as its decoder reports it.
std::vector<StreamEvent> TextEvents() {
  return {StartEvent("msg_01", "claude-haiku-4-5"),
          ContentEvent(StreamEvent::Kind::kReasoning, R"(Thinking about "hi".)"),
          ContentEvent(StreamEvent::Kind::kText, "Hel"),
          ContentEvent(StreamEvent::Kind::kText, ""),  // an empty delta adds no chunk
          ContentEvent(StreamEvent::Kind::kText, "lo\n"),
          FinishEvent(FinishReason::kStop),
          UsageEvent(Usage{12, 2, 8, 1})};
}

TEST(OpenAiStreamEncoderTest, EncodesATextStreamWithTheUsageChunkWhenAskedFor) {
  EXPECT_EQ(EncodeAll(TextEvents(), /*include_usage=*/true),
            testing::ReadTestdata("openai/translated_text_stream.wire"));
}

TEST(OpenAiStreamEncoderTest, LeavesTheUsageChunkOutWhenTheClientDidNotAskForIt) {
  EXPECT_EQ(EncodeAll(TextEvents(), /*include_usage=*/false),
            testing::ReadTestdata("openai/translated_text_stream.no_usage.wire"));
}

TEST(OpenAiStreamEncoderTest, EncodesToolCallDeltasKeyedByIndex) {
  const std::vector<StreamEvent> events = {
      StartEvent("resp-7", "gemini-2.5-flash"),
      ContentEvent(StreamEvent::Kind::kText, "Let me check."),
      ToolCallStartEvent(0, "toolu_01", "get_weather"),
      ContentEvent(StreamEvent::Kind::kToolCallArguments, "", 0),  // Anthropic's first partial_json is ""
      ContentEvent(StreamEvent::Kind::kToolCallArguments, R"({"city":)", 0),
      ContentEvent(StreamEvent::Kind::kToolCallArguments, R"("Paris"})", 0),
      ToolCallStartEvent(1, "toolu_02", "get_time"),
      ContentEvent(StreamEvent::Kind::kToolCallArguments, "{}", 1),
      FinishEvent(FinishReason::kToolCalls),
      UsageEvent(Usage{40, 11, 0, 0})};
  EXPECT_EQ(EncodeAll(events, /*include_usage=*/true),
            testing::ReadTestdata("openai/translated_tool_call_stream.wire"));
}

TEST(OpenAiStreamEncoderTest, NamesEveryFinishReasonTheOpenAiWay) {
  const std::pair<FinishReason, const char*> cases[] = {
      {FinishReason::kStop, "stop"},
      {FinishReason::kLength, "length"},
      {FinishReason::kToolCalls, "tool_calls"},
      {FinishReason::kContentFilter, "content_filter"},
  };
  for (const auto& [reason, name] : cases) {
    OpenAiStreamEncoder encoder(/*include_usage=*/false, 7);
    std::string out;
    encoder.Encode(FinishEvent(reason), out);
    EXPECT_EQ(out, std::string(R"(data: {"id":"chatcmpl-llmesh","object":"chat.completion.chunk","created":7,)") +
                       R"("model":"","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":")" + name +
                       "\"}]}\n\n");
  }
}

TEST(OpenAiStreamEncoderTest, KeepsASynthesizedIdWhenTheProviderSentNone) {
  OpenAiStreamEncoder encoder(/*include_usage=*/true, kCreated);
  std::string out;
  encoder.Encode(StartEvent("", "m"), out);
  encoder.Encode(UsageEvent(Usage{1, 1, 0, 0}), out);
  EXPECT_EQ(out,
            "data: {\"id\":\"chatcmpl-llmesh\",\"object\":\"chat.completion.chunk\",\"created\":1715000000,"
            "\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
            "\"logprobs\":null,\"finish_reason\":null}]}\n\n"
            "data: {\"id\":\"chatcmpl-llmesh\",\"object\":\"chat.completion.chunk\",\"created\":1715000000,"
            "\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,"
            "\"total_tokens\":2}}\n\n");
}

TEST(OpenAiStreamEncoderTest, EscapesTextSoEveryChunkIsOneValidJsonLine) {
  OpenAiStreamEncoder encoder(/*include_usage=*/false, kCreated);
  std::string out;
  encoder.Encode(StartEvent("a\"b", "m\\n"), out);
  encoder.Encode(ContentEvent(StreamEvent::Kind::kText, "line1\nline2\r\n\"q\"\t\x01"), out);
  size_t chunks = 0;
  size_t start = 0;
  while (start < out.size() && chunks < 8) {
    const size_t end = out.find("\n\n", start);
    ASSERT_NE(end, std::string::npos);
    const std::string line = out.substr(start, end - start);
    ASSERT_EQ(line.rfind("data: ", 0), 0u) << line;
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    boost::system::error_code ec;
    const boost::json::value chunk = boost::json::parse(line.substr(6), ec);
    ASSERT_FALSE(ec) << line;
    EXPECT_EQ(chunk.at("id").as_string(), "a\"b");
    EXPECT_EQ(chunk.at("model").as_string(), "m\\n");
    ++chunks;
    start = end + 2;
  }
  EXPECT_EQ(chunks, 2u);
  const boost::json::value text = boost::json::parse(out.substr(out.find("\n\n") + 2 + 6));
  EXPECT_EQ(text.at("choices").at(0).at("delta").at("content").as_string(), "line1\nline2\r\n\"q\"\t\x01");
}

// An OpenAI-format upstream translated for a client of another format and back is the same
// stream, apart from the created time the encoder stamps.
TEST(OpenAiStreamEncoderTest, ReencodesWhatTheTranslatingDecoderRead) {
  OpenAiStreamDecoder decoder(/*forward_usage=*/true, /*translate=*/true);
  StreamDecoder::Progress progress;
  decoder.Feed(testing::ReadTestdata("openai/tool_call_stream.sse"), progress);
  ASSERT_TRUE(progress.done);
  OpenAiStreamEncoder encoder(/*include_usage=*/true, 1715000000);
  std::string out;
  for (const StreamEvent& event : progress.events) encoder.Encode(event, out);
  encoder.End(out);
  const std::string prefix = R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1715000000,)"
                             R"("model":"gpt-4o","choices":[)";
  EXPECT_EQ(out,
            prefix + R"({"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]})"
                     "\n\n" +
                prefix +
                R"({"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":)"
                R"({"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}]})"
                "\n\n" +
                prefix +
                R"({"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},)"
                R"("logprobs":null,"finish_reason":null}]})"
                "\n\n" +
                prefix +
                R"({"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},)"
                R"("logprobs":null,"finish_reason":null}]})"
                "\n\n" +
                prefix + R"({"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]})"
                         "\n\n" +
                prefix + R"(],"usage":{"prompt_tokens":40,"completion_tokens":11,"total_tokens":51}})"
                         "\n\n"
                         "data: [DONE]\n\n");
}

}  // namespace
}  // namespace llmesh::provider
