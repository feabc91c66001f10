// OpenAiStreamDecoder in translated mode: an OpenAI-format upstream answering a client of
// another format (Anthropic's /v1/messages) yields canonical StreamEvents, not wire bytes.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/provider/openai/openai_stream_decoder.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

// One canonical event written out, so whole sequences compare exactly and read in failures.
std::string Describe(const StreamEvent& event) {
  switch (event.kind) {
    case StreamEvent::Kind::kStart: return "start " + event.id + " " + event.name;
    case StreamEvent::Kind::kText: return "text " + event.text;
    case StreamEvent::Kind::kReasoning: return "reasoning " + event.text;
    case StreamEvent::Kind::kToolCallStart:
      return "tool " + std::to_string(event.tool_index) + " " + event.id + " " + event.name;
    case StreamEvent::Kind::kToolCallArguments: return "args " + std::to_string(event.tool_index) + " " + event.text;
    case StreamEvent::Kind::kFinish:
      return "finish " + std::string(FinishReasonName(event.finish_reason)) + " " +
             std::to_string(event.usage.prompt_tokens) + "/" + std::to_string(event.usage.completion_tokens);
    case StreamEvent::Kind::kUsage:
      return "usage " + std::to_string(event.usage.prompt_tokens) + "/" +
             std::to_string(event.usage.completion_tokens) + " cached " + std::to_string(event.usage.cached_tokens) +
             " reasoning " + std::to_string(event.usage.reasoning_tokens);
  }
  return "?";
}

struct Outcome {
  std::vector<std::string> events;
  std::string wire;
  bool content = false;
  bool done = false;
  std::optional<UpstreamFailure> failure;  // from Feed
  std::optional<UpstreamFailure> finish;   // from Finish
};

// Feeds `pieces` the way the failover loop does (taking `events` after every read).
Outcome Translate(const std::vector<std::string_view>& pieces, bool forward_usage = false) {
  OpenAiStreamDecoder decoder(forward_usage, /*translate=*/true);
  StreamDecoder::Progress progress;
  Outcome outcome;
  for (std::string_view piece : pieces) {
    decoder.Feed(piece, progress);
    for (const StreamEvent& event : progress.events) outcome.events.push_back(Describe(event));
    progress.events.clear();
    outcome.wire += progress.wire;
    if (progress.failure || progress.done) break;
  }
  outcome.content = progress.content;
  outcome.done = progress.done;
  outcome.failure = progress.failure;
  outcome.finish = decoder.Finish(progress);
  for (const StreamEvent& event : progress.events) outcome.events.push_back(Describe(event));
  return outcome;
}

std::string Chunk(std::string_view choice) {
  return std::string(R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[)") +
         std::string(choice) + "]}\n\n";
}

using Events = std::vector<std::string>;

TEST(OpenAiStreamTranslateTest, TurnsATextStreamIntoCanonicalEvents) {
  for (const bool forward_usage : {true, false}) {
    const Outcome outcome = Translate({testing::ReadTestdata("openai/text_stream.sse")}, forward_usage);
    EXPECT_EQ(outcome.events, (Events{"start chatcmpl-1 gpt-4o", "text Hel", "text lo", "finish stop 0/0",
                                      "usage 12/2 cached 0 reasoning 0"}));
    EXPECT_EQ(outcome.wire, "");
    EXPECT_TRUE(outcome.content);
    EXPECT_TRUE(outcome.done);
    EXPECT_FALSE(outcome.failure.has_value());
    EXPECT_FALSE(outcome.finish.has_value());
  }
}

TEST(OpenAiStreamTranslateTest, TurnsToolCallDeltasIntoStartAndArgumentEvents) {
  const Outcome outcome = Translate({testing::ReadTestdata("openai/tool_call_stream.sse")});
  EXPECT_EQ(outcome.events, (Events{"start chatcmpl-1 gpt-4o", "tool 0 call_abc get_weather", R"(args 0 {"city":)",
                                    R"(args 0 "Paris"})", "finish tool_calls 0/0", "usage 40/11 cached 0 reasoning 0"}));
  EXPECT_TRUE(outcome.done);
  EXPECT_FALSE(outcome.finish.has_value());
}

TEST(OpenAiStreamTranslateTest, GivesTheSameEventsWhateverTheReadSplits) {
  for (const char* name : {"text_stream", "tool_call_stream", "groq_x_groq_stream", "azure_prompt_filter_stream",
                           "deepseek_keepalive_stream", "multiline_data_stream"}) {
    SCOPED_TRACE(name);
    const std::string input = testing::ReadTestdata(std::string("openai/") + name + ".sse");
    const Outcome whole = Translate({input});
    EXPECT_TRUE(whole.done);
    const std::string_view view(input);
    for (size_t cut = 0; cut <= input.size(); ++cut) {
      const Outcome split = Translate({view.substr(0, cut), view.substr(cut)});
      ASSERT_EQ(split.events, whole.events) << "cut at " << cut;
      ASSERT_EQ(split.done, whole.done) << "cut at " << cut;
    }
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < input.size(); ++i) bytes.push_back(view.substr(i, 1));
    EXPECT_EQ(Translate(bytes).events, whole.events);
  }
}

TEST(OpenAiStreamTranslateTest, ReadsGroqUsageFromTheFinishChunk) {
  const Outcome outcome = Translate({testing::ReadTestdata("openai/groq_x_groq_stream.sse")});
  EXPECT_EQ(outcome.events, (Events{"start chatcmpl-gq llama-3.3-70b-versatile", "text Hey", "finish stop 15/1",
                                    "usage 15/1 cached 0 reasoning 0"}));
}

TEST(OpenAiStreamTranslateTest, SkipsAzuresPromptFilterChunkBeforeStarting) {
  const Outcome outcome = Translate({testing::ReadTestdata("openai/azure_prompt_filter_stream.sse")});
  EXPECT_EQ(outcome.events, (Events{"start chatcmpl-az gpt-4o-2024-08-06", "text Hello", "finish stop 0/0",
                                    "usage 8/1 cached 0 reasoning 0"}));
}

TEST(OpenAiStreamTranslateTest, TurnsReasoningDeltasIntoReasoningEvents) {
  const Outcome outcome = Translate(
      {Chunk(R"({"index":0,"delta":{"role":"assistant","content":"","reasoning_content":"Hmm."},"finish_reason":null})") +
       Chunk(R"({"index":0,"delta":{"reasoning":"Groq thinks."},"finish_reason":null})") +
       Chunk(R"({"index":0,"delta":{"content":"4"},"finish_reason":"stop"})") +
       R"(data: {"id":"c1","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":9,)"
       R"("prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":7}}})"
       "\n\ndata: [DONE]\n\n"});
  EXPECT_EQ(outcome.events, (Events{"start c1 m", "reasoning Hmm.", "reasoning Groq thinks.", "text 4",
                                    "finish stop 0/0", "usage 5/9 cached 3 reasoning 7"}));
  EXPECT_TRUE(outcome.content);
}

TEST(OpenAiStreamTranslateTest, FinishesOnceWhenAProviderRepeatsTheFinishReason) {
  const Outcome outcome = Translate({Chunk(R"({"index":0,"delta":{"content":"a"},"finish_reason":null})") +
                                     Chunk(R"({"index":0,"delta":{},"finish_reason":"length"})") +
                                     Chunk(R"({"index":0,"delta":{},"finish_reason":"stop"})") + "data: [DONE]\n\n"});
  EXPECT_EQ(outcome.events, (Events{"start c1 m", "text a", "finish length 0/0", "usage 0/0 cached 0 reasoning 0"}));
}

TEST(OpenAiStreamTranslateTest, MapsNonStandardAndUnknownFinishReasons) {
  const std::pair<const char*, const char*> cases[] = {
      {"eos", "finish stop 0/0"},
      {"eos_token", "finish stop 0/0"},
      {"model_length", "finish length 0/0"},
      {"content_filter", "finish content_filter 0/0"},
      {"something_new", "finish stop 0/0"},
  };
  for (const auto& [reason, finish] : cases) {
    SCOPED_TRACE(reason);
    const Outcome outcome = Translate({Chunk(std::string(R"({"index":0,"delta":{"content":"a"},"finish_reason":")") +
                                             reason + "\"}") +
                                       "data: [DONE]\n\n"});
    EXPECT_EQ(outcome.events, (Events{"start c1 m", "text a", finish, "usage 0/0 cached 0 reasoning 0"}));
  }
  // An unknown reason of an answer that called tools is a tool turn.
  const Outcome tools = Translate(
      {Chunk(R"({"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"weird"})") +
       "data: [DONE]\n\n"});
  EXPECT_EQ(tools.events,
            (Events{"start c1 m", "tool 0 c f", "args 0 {}", "finish tool_calls 0/0", "usage 0/0 cached 0 reasoning 0"}));
}

TEST(OpenAiStreamTranslateTest, AddsStartAndFinishWhenTheUpstreamSkippedThem) {
  const Outcome empty = Translate({"data: [DONE]\n\n"});
  EXPECT_EQ(empty.events, (Events{"start  ", "finish stop 0/0", "usage 0/0 cached 0 reasoning 0"}));
  EXPECT_FALSE(empty.content);
  EXPECT_TRUE(empty.done);
  const Outcome no_finish = Translate(
      {Chunk(R"({"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null})") +
       "data: [DONE]\n\n"});
  EXPECT_EQ(no_finish.events, (Events{"start c1 m", "tool 0 c f", "finish tool_calls 0/0", "usage 0/0 cached 0 reasoning 0"}));
}

TEST(OpenAiStreamTranslateTest, RoleOnlyChunksStartTheAnswerButAreNotContent) {
  const Outcome outcome = Translate({Chunk(R"({"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null})")});
  EXPECT_EQ(outcome.events, (Events{"start c1 m"}));
  EXPECT_FALSE(outcome.content);
  EXPECT_FALSE(outcome.done);
  ASSERT_TRUE(outcome.finish.has_value());
  EXPECT_EQ(outcome.finish->kind, FailureKind::kReset);
}

TEST(OpenAiStreamTranslateTest, StopsAtAMidStreamErrorKeepingEarlierEvents) {
  const Outcome outcome = Translate({testing::ReadTestdata("openai/midstream_error_stream.sse")});
  ASSERT_TRUE(outcome.failure.has_value());
  EXPECT_EQ(outcome.failure->kind, FailureKind::kOverloaded);
  ASSERT_TRUE(outcome.finish.has_value());
  EXPECT_EQ(outcome.finish->kind, FailureKind::kOverloaded);
  EXPECT_TRUE(outcome.content);
  EXPECT_FALSE(outcome.done);
  ASSERT_FALSE(outcome.events.empty());
  EXPECT_EQ(outcome.events.front().rfind("start ", 0), 0u);
  for (const std::string& event : outcome.events) {
    EXPECT_EQ(event.rfind("finish", 0), std::string::npos) << event;
    EXPECT_EQ(event.rfind("usage", 0), std::string::npos) << event;
  }
  EXPECT_EQ(outcome.wire, "");
}

TEST(OpenAiStreamTranslateTest, ReportsResetForATruncatedStream) {
  const Outcome outcome = Translate({testing::ReadTestdata("openai/truncated_stream.sse")});
  EXPECT_FALSE(outcome.failure.has_value());
  ASSERT_TRUE(outcome.finish.has_value());
  EXPECT_EQ(outcome.finish->kind, FailureKind::kReset);
  for (const std::string& event : outcome.events) EXPECT_EQ(event.rfind("usage", 0), std::string::npos) << event;
}

TEST(OpenAiStreamTranslateTest, TreatsDeepSeeksCapacityFinishAsOverloadedWithoutAFinishEvent) {
  const Outcome outcome = Translate({testing::ReadTestdata("openai/deepseek_insufficient_resource_stream.sse")});
  ASSERT_TRUE(outcome.failure.has_value());
  EXPECT_EQ(outcome.failure->kind, FailureKind::kOverloaded);
  for (const std::string& event : outcome.events) EXPECT_EQ(event.rfind("finish", 0), std::string::npos) << event;
}


TEST(OpenAiStreamTranslateTest, ARepeatedToolCallIdContinuesTheCall) {
  // DeepSeek and Qwen send the whole id (and type) on every delta of a call.
  const Outcome outcome = Translate(
      {Chunk(R"({"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_0","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null})") +
       Chunk(R"({"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_0","type":"function","function":{"arguments":"{\"a\":"}}]},"finish_reason":null})") +
       Chunk(R"({"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_0","type":"function","function":{"arguments":"1}"}}]},"finish_reason":null})") +
       Chunk(R"({"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_1","type":"function","function":{"name":"g","arguments":"{}"}}]},"finish_reason":null})") +
       Chunk(R"({"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_1","type":"function","function":{"arguments":""}}]},"finish_reason":"tool_calls"})") +
       "data: [DONE]\n\n"});
  EXPECT_EQ(outcome.events, (Events{"start c1 m", "tool 0 call_0 f", R"(args 0 {"a":)", "args 0 1}", "tool 1 call_1 g",
                                    "args 1 {}", "finish tool_calls 0/0", "usage 0/0 cached 0 reasoning 0"}));
}

TEST(OpenAiStreamTranslateTest, WholeCallsWithoutAnIndexAreNumberedInOrder) {
  const Outcome outcome = Translate(
      {Chunk(R"({"index":0,"delta":{"tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}},)"
             R"({"id":"b","type":"function","function":{"name":"g","arguments":"{\"y\":2}"}}]},"finish_reason":"tool_calls"})") +
       "data: [DONE]\n\n"});
  EXPECT_EQ(outcome.events, (Events{"start c1 m", "tool 0 a f", R"(args 0 {"x":1})", "tool 1 b g", R"(args 1 {"y":2})",
                                    "finish tool_calls 0/0", "usage 0/0 cached 0 reasoning 0"}));
}

TEST(OpenAiStreamTranslateTest, GivesACallWithoutAnIdOneOfItsOwn) {
  const Outcome outcome = Translate(
      {Chunk(R"({"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"})") +
       "data: [DONE]\n\n"});
  EXPECT_EQ(outcome.events,
            (Events{"start c1 m", "tool 0 call_0 f", "args 0 {}", "finish tool_calls 0/0", "usage 0/0 cached 0 reasoning 0"}));
}

TEST(OpenAiStreamTranslateTest, ARefusalIsTheAnswersText) {
  const Outcome outcome = Translate({Chunk(R"({"index":0,"delta":{"role":"assistant","content":null,"refusal":""},"finish_reason":null})") +
                                     Chunk(R"({"index":0,"delta":{"refusal":"I can't help with that."},"finish_reason":null})") +
                                     Chunk(R"({"index":0,"delta":{},"finish_reason":"stop"})") + "data: [DONE]\n\n"});
  EXPECT_EQ(outcome.events, (Events{"start c1 m", "text I can't help with that.", "finish stop 0/0",
                                    "usage 0/0 cached 0 reasoning 0"}));
  EXPECT_TRUE(outcome.content);
}

}  // namespace
}  // namespace llmesh::provider
