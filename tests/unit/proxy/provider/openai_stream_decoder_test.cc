#include "proxy/provider/openai/openai_stream_decoder.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

struct Outcome {
  std::string wire;
  bool content = false;
  bool done = false;
  std::optional<UpstreamFailure> failure;  // from Feed
  std::optional<UpstreamFailure> finish;   // from Finish
  Usage usage;
};

// Feeds `pieces` the way the failover loop does (taking `wire` after every read).
Outcome Decode(const std::vector<std::string_view>& pieces, bool forward_usage) {
  OpenAiStreamDecoder decoder(forward_usage);
  StreamDecoder::Progress progress;
  Outcome outcome;
  for (std::string_view piece : pieces) {
    decoder.Feed(piece, progress);
    outcome.wire += progress.wire;
    progress.wire.clear();
    if (progress.failure || progress.done) break;
  }
  outcome.content = progress.content;
  outcome.done = progress.done;
  outcome.failure = progress.failure;
  outcome.finish = decoder.Finish(progress);
  outcome.usage = decoder.usage();
  return outcome;
}

Outcome RunWhole(std::string_view input, bool forward_usage = true) {
  return Decode({input}, forward_usage);
}

struct Golden {
  const char* stream;  // openai/<stream>.sse
  const char* wire;    // openai/<wire>
  bool forward_usage;
  bool content;
  bool done;
  std::optional<FailureKind> failure;
  uint64_t prompt_tokens;
  uint64_t completion_tokens;
};

const Golden kGoldens[] = {
    {"text_stream", "text_stream.wire", true, true, true, std::nullopt, 12, 2},
    {"text_stream", "text_stream.no_usage.wire", false, true, true, std::nullopt, 12, 2},
    {"tool_call_stream", "tool_call_stream.wire", true, true, true, std::nullopt, 40, 11},
    {"deepseek_keepalive_stream", "deepseek_keepalive_stream.wire", true, true, true, std::nullopt, 9, 5},
    {"deepseek_keepalive_stream", "deepseek_keepalive_stream.no_usage.wire", false, true, true,
     std::nullopt, 9, 5},
    {"azure_prompt_filter_stream", "azure_prompt_filter_stream.wire", true, true, true, std::nullopt,
     8, 1},
    {"groq_x_groq_stream", "groq_x_groq_stream.wire", false, true, true, std::nullopt, 15, 1},
    {"multiline_data_stream", "multiline_data_stream.wire", false, true, true, std::nullopt, 0, 0},
    {"midstream_error_stream", "midstream_error_stream.wire", true, true, false,
     FailureKind::kOverloaded, 0, 0},
    {"deepseek_insufficient_resource_stream", "deepseek_insufficient_resource_stream.wire", true,
     false, false, FailureKind::kOverloaded, 0, 0},
};

void ExpectGolden(const Golden& golden, const Outcome& outcome, const std::string& expected_wire) {
  EXPECT_EQ(outcome.wire, expected_wire);
  EXPECT_EQ(outcome.content, golden.content);
  EXPECT_EQ(outcome.done, golden.done);
  ASSERT_EQ(outcome.failure.has_value(), golden.failure.has_value());
  if (golden.failure) {
    EXPECT_EQ(FailureKindName(outcome.failure->kind), FailureKindName(*golden.failure));
    ASSERT_TRUE(outcome.finish.has_value());
    EXPECT_EQ(outcome.finish->kind, outcome.failure->kind);
  } else {
    EXPECT_FALSE(outcome.finish.has_value());
  }
  EXPECT_EQ(outcome.usage.prompt_tokens, golden.prompt_tokens);
  EXPECT_EQ(outcome.usage.completion_tokens, golden.completion_tokens);
}

TEST(OpenAiStreamDecoderTest, DecodesGoldenStreamsFedWhole) {
  for (const Golden& golden : kGoldens) {
    SCOPED_TRACE(::testing::Message() << golden.stream << " usage=" << golden.forward_usage);
    const std::string input = testing::ReadTestdata(std::string("openai/") + golden.stream + ".sse");
    ExpectGolden(golden, RunWhole(input, golden.forward_usage),
                 testing::ReadTestdata(std::string("openai/") + golden.wire));
  }
}

TEST(OpenAiStreamDecoderTest, DecodesGoldenStreamsSplitAtEveryByte) {
  for (const Golden& golden : kGoldens) {
    SCOPED_TRACE(::testing::Message() << golden.stream << " usage=" << golden.forward_usage);
    const std::string input = testing::ReadTestdata(std::string("openai/") + golden.stream + ".sse");
    const std::string expected = testing::ReadTestdata(std::string("openai/") + golden.wire);
    const std::string_view whole(input);
    for (size_t cut = 0; cut <= input.size(); ++cut) {
      SCOPED_TRACE(::testing::Message() << "cut at " << cut);
      ExpectGolden(golden, Decode({whole.substr(0, cut), whole.substr(cut)}, golden.forward_usage),
                   expected);
      if (::testing::Test::HasFailure()) return;
    }
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < input.size(); ++i) bytes.push_back(whole.substr(i, 1));
    ExpectGolden(golden, Decode(bytes, golden.forward_usage), expected);
  }
}

TEST(OpenAiStreamDecoderTest, RoleOnlyAndEmptyContentChunksAreNotContent) {
  OpenAiStreamDecoder decoder(false);
  StreamDecoder::Progress progress;
  decoder.Feed(": keep-alive\n\n", progress);
  EXPECT_TRUE(progress.wire.empty());
  EXPECT_FALSE(progress.content);
  decoder.Feed(R"(data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})"
               "\n\n",
               progress);
  EXPECT_FALSE(progress.wire.empty());
  EXPECT_FALSE(progress.content);
  decoder.Feed(R"(data: {"choices":[{"index":0,"delta":{"content":null,"tool_calls":[]},"finish_reason":null}]})"
               "\n\n",
               progress);
  EXPECT_FALSE(progress.content);
  decoder.Feed(R"(data: {"choices":[{"index":0,"delta":{"content":"H"},"finish_reason":null}]})"
               "\n\n",
               progress);
  EXPECT_TRUE(progress.content);
}

TEST(OpenAiStreamDecoderTest, CountsRefusalReasoningToolCallsAndFinishAsContent) {
  for (const char* chunk : {
           R"({"choices":[{"index":0,"delta":{"refusal":"I can't"},"finish_reason":null}]})",
           R"({"choices":[{"index":0,"delta":{"reasoning_content":"Hmm"},"finish_reason":null}]})",
           R"({"choices":[{"index":0,"delta":{"reasoning":"Hmm"},"finish_reason":null}]})",
           R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}]})",
           R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})",
           R"({"choices":[{"index":0,"delta":{},"finish_reason":"content_filter"}]})",
       }) {
    SCOPED_TRACE(chunk);
    OpenAiStreamDecoder decoder(false);
    StreamDecoder::Progress progress;
    decoder.Feed(std::string("data: ") + chunk + "\n\n", progress);
    EXPECT_TRUE(progress.content);
    EXPECT_EQ(progress.wire, std::string("data: ") + chunk + "\n\n");
  }
}

TEST(OpenAiStreamDecoderTest, DropsAzuresPromptFilterChunk) {
  OpenAiStreamDecoder decoder(true);
  StreamDecoder::Progress progress;
  decoder.Feed(
      R"(data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]})"
      "\r\n\r\n",
      progress);
  EXPECT_TRUE(progress.wire.empty());
  EXPECT_FALSE(progress.content);
  EXPECT_FALSE(progress.failure.has_value());
}

TEST(OpenAiStreamDecoderTest, RecordsUsageEvenWhenTheClientDidNotAskForIt) {
  const Outcome outcome = RunWhole(testing::ReadTestdata("openai/text_stream.sse"), false);
  EXPECT_EQ(outcome.wire.find("\"usage\":{"), std::string::npos);
  EXPECT_EQ(outcome.usage.prompt_tokens, 12u);
  EXPECT_EQ(outcome.usage.completion_tokens, 2u);
}

TEST(OpenAiStreamDecoderTest, ReportsResetWhenTheStreamEndsBeforeDone) {
  const Outcome outcome = RunWhole(testing::ReadTestdata("openai/truncated_stream.sse"));
  EXPECT_EQ(outcome.wire, testing::ReadTestdata("openai/truncated_stream.wire"));
  EXPECT_TRUE(outcome.content);
  EXPECT_FALSE(outcome.done);
  EXPECT_FALSE(outcome.failure.has_value());
  ASSERT_TRUE(outcome.finish.has_value());
  EXPECT_EQ(outcome.finish->kind, FailureKind::kReset);
}

TEST(OpenAiStreamDecoderTest, ReportsResetForAnEmptyBody) {
  const Outcome outcome = RunWhole("");
  ASSERT_TRUE(outcome.finish.has_value());
  EXPECT_EQ(outcome.finish->kind, FailureKind::kReset);
}

TEST(OpenAiStreamDecoderTest, StopsAtUnparseableJsonKeepingEarlierEvents) {
  const std::string first = R"(data: {"choices":[{"index":0,"delta":{"content":"A"},"finish_reason":null}]})"
                            "\n\n";
  const Outcome outcome = RunWhole(first + "data: {\"choices\":[{\n\ndata: [DONE]\n\n");
  EXPECT_EQ(outcome.wire, first);
  ASSERT_TRUE(outcome.failure.has_value());
  EXPECT_EQ(outcome.failure->kind, FailureKind::kMalformed);
  EXPECT_FALSE(outcome.done);
}

TEST(OpenAiStreamDecoderTest, ReportsAnInStreamErrorEvent) {
  const Outcome outcome = RunWhole(testing::ReadTestdata("openai/midstream_error_stream.sse"));
  ASSERT_TRUE(outcome.failure.has_value());
  EXPECT_EQ(outcome.failure->kind, FailureKind::kOverloaded);
  EXPECT_EQ(outcome.failure->http_status, 200);
  EXPECT_EQ(outcome.failure->code, "upstream_overloaded");
  EXPECT_EQ(outcome.failure->message, "Upstream overloaded");
}

TEST(OpenAiStreamDecoderTest, ReportsAnErrorNamedEvent) {
  const Outcome outcome = RunWhole("event: error\ndata: upstream exploded\n\n");
  ASSERT_TRUE(outcome.failure.has_value());
  EXPECT_EQ(outcome.failure->kind, FailureKind::kServerError);
  EXPECT_EQ(outcome.failure->message, "upstream exploded");
  EXPECT_TRUE(outcome.wire.empty());
}

TEST(OpenAiStreamDecoderTest, TreatsMistralFinishErrorAsAServerError) {
  const Outcome outcome = RunWhole(
      R"(data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]})"
      "\n\n"
      R"(data: {"choices":[{"index":0,"delta":{},"finish_reason":"error"}]})"
      "\n\n");
  ASSERT_TRUE(outcome.failure.has_value());
  EXPECT_EQ(outcome.failure->kind, FailureKind::kServerError);
  EXPECT_EQ(outcome.failure->code, "error");
  EXPECT_TRUE(outcome.content);
}

TEST(OpenAiStreamDecoderTest, RewritesTogethersEosFinishReasonToStop) {
  const std::string untouched = R"(data: {"id":"t1","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]})"
                                "\n\n";
  const Outcome outcome = RunWhole(
      untouched +
      R"(data: {"id":"t1","choices":[{"index":0,"delta":{},"finish_reason":"eos","logprobs":null}]})"
      "\n\ndata: [DONE]\n\n");
  EXPECT_EQ(outcome.wire,
            untouched +
                R"(data: {"id":"t1","choices":[{"index":0,"delta":{},"finish_reason":"stop","logprobs":null}]})"
                "\n\ndata: [DONE]\n\n");
  EXPECT_TRUE(outcome.done);
}

TEST(OpenAiStreamDecoderTest, ClassifiesAGeminiCompatArrayErrorBody) {
  const std::string body = testing::ReadTestdata("openai/gemini_compat_array_error_stream.sse");
  OpenAiStreamDecoder decoder(false);
  StreamDecoder::Progress progress;
  decoder.Feed(body, progress);
  ASSERT_TRUE(progress.failure.has_value());
  EXPECT_EQ(progress.failure->kind, FailureKind::kRateLimited);
  EXPECT_EQ(progress.failure->http_status, 429);
  EXPECT_TRUE(progress.wire.empty());
  ASSERT_TRUE(decoder.Finish(progress).has_value());
}

TEST(OpenAiStreamDecoderTest, ReportsANonStreamJsonAnswerAsMalformedAtTheEnd) {
  const std::string body = testing::ReadTestdata("openai/chat_response.json");
  const std::string_view whole(body);
  const Outcome outcome = Decode({whole.substr(0, 10), whole.substr(10)}, false);
  EXPECT_TRUE(outcome.wire.empty());
  ASSERT_TRUE(outcome.finish.has_value());
  EXPECT_EQ(outcome.finish->kind, FailureKind::kMalformed);
}

TEST(OpenAiStreamDecoderTest, IgnoresBytesAfterDone) {
  OpenAiStreamDecoder decoder(false);
  StreamDecoder::Progress progress;
  decoder.Feed("data: [DONE]\n\n", progress);
  EXPECT_TRUE(progress.done);
  progress.wire.clear();
  decoder.Feed("data: {not json}\n\n", progress);
  EXPECT_TRUE(progress.wire.empty());
  EXPECT_FALSE(progress.failure.has_value());
  EXPECT_FALSE(decoder.Finish(progress).has_value());
}

TEST(OpenAiStreamDecoderTest, FinishRepeatsTheFailureFeedReported) {
  OpenAiStreamDecoder decoder(false);
  StreamDecoder::Progress progress;
  decoder.Feed("data: nope\n\n", progress);
  ASSERT_TRUE(progress.failure.has_value());
  const std::optional<UpstreamFailure> finish = decoder.Finish(progress);
  ASSERT_TRUE(finish.has_value());
  EXPECT_EQ(finish->kind, FailureKind::kMalformed);
  EXPECT_EQ(finish->message, progress.failure->message);
}

}  // namespace
}  // namespace llmesh::provider
