#include "proxy/provider/gemini/gemini_stream_decoder.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/unit/proxy/provider/gemini/gemini_test_support.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

using testing::ReadTestdata;
using testing::RenderEvents;

struct Outcome {
  std::string events;  // RenderEvents of everything Feed and Finish produced
  bool content = false;
  bool done = false;
  std::optional<UpstreamFailure> failure;  // from Feed
  std::optional<UpstreamFailure> finish;   // from Finish
  Usage usage;
};

// Feeds `pieces` the way the failover loop does (taking the events after every read, stopping
// at a failure), then ends the body.
Outcome Decode(const std::vector<std::string_view>& pieces) {
  GeminiStreamDecoder decoder;
  StreamDecoder::Progress progress;
  std::vector<StreamEvent> events;
  for (std::string_view piece : pieces) {
    decoder.Feed(piece, progress);
    events.insert(events.end(), progress.events.begin(), progress.events.end());
    progress.events.clear();
    if (progress.failure) break;
  }
  Outcome outcome;
  outcome.failure = progress.failure;
  outcome.finish = decoder.Finish(progress);
  events.insert(events.end(), progress.events.begin(), progress.events.end());
  outcome.events = RenderEvents(events);
  outcome.content = progress.content;
  outcome.done = progress.done;
  outcome.usage = decoder.usage();
  return outcome;
}

Outcome RunWhole(std::string_view body) { return Decode({body}); }

Outcome RunBytewise(std::string_view body) {
  std::vector<std::string_view> pieces;
  for (size_t i = 0; i < body.size(); ++i) pieces.push_back(body.substr(i, 1));
  return Decode(pieces);
}

struct Golden {
  const char* name;  // gemini/<name>.sse and gemini/<name>.events
  bool content;
  bool done;
  std::optional<FailureKind> feed_failure;
  std::optional<FailureKind> finish_failure;
  uint64_t prompt_tokens;
  uint64_t completion_tokens;
};

const Golden kGoldens[] = {
    {"text_stream", true, true, std::nullopt, std::nullopt, 5, 7},
    {"function_call_stream", true, true, std::nullopt, std::nullopt, 40, 11},
    {"unknown_fields_stream", true, true, std::nullopt, std::nullopt, 9, 22},
    {"max_tokens_stream", true, true, std::nullopt, std::nullopt, 3, 2},
    {"blocked_prompt_stream", true, true, std::nullopt, std::nullopt, 8, 0},
    {"truncated_stream", true, false, std::nullopt, FailureKind::kReset, 5, 0},
    {"midstream_error_stream", true, false, FailureKind::kOverloaded, FailureKind::kOverloaded, 0, 0},
    {"garbage_stream", true, false, FailureKind::kMalformed, FailureKind::kMalformed, 0, 0},
};

void ExpectGolden(const Golden& golden, const Outcome& outcome) {
  EXPECT_EQ(outcome.events, ReadTestdata(absl::StrCat("gemini/", golden.name, ".events")));
  EXPECT_EQ(outcome.content, golden.content);
  EXPECT_EQ(outcome.done, golden.done);
  ASSERT_EQ(outcome.failure.has_value(), golden.feed_failure.has_value());
  if (golden.feed_failure) {
    EXPECT_EQ(FailureKindName(outcome.failure->kind), FailureKindName(*golden.feed_failure));
  }
  ASSERT_EQ(outcome.finish.has_value(), golden.finish_failure.has_value());
  if (golden.finish_failure) {
    EXPECT_EQ(FailureKindName(outcome.finish->kind), FailureKindName(*golden.finish_failure));
  }
  EXPECT_EQ(outcome.usage.prompt_tokens, golden.prompt_tokens);
  EXPECT_EQ(outcome.usage.completion_tokens, golden.completion_tokens);
}

TEST(GeminiStreamDecoderTest, DecodesGoldenStreamsFedWhole) {
  for (const Golden& golden : kGoldens) {
    SCOPED_TRACE(golden.name);
    ExpectGolden(golden, RunWhole(ReadTestdata(absl::StrCat("gemini/", golden.name, ".sse"))));
  }
}

TEST(GeminiStreamDecoderTest, DecodesGoldenStreamsFedOneByteAtATime) {
  for (const Golden& golden : kGoldens) {
    SCOPED_TRACE(golden.name);
    ExpectGolden(golden, RunBytewise(ReadTestdata(absl::StrCat("gemini/", golden.name, ".sse"))));
  }
}

TEST(GeminiStreamDecoderTest, ReportsContentOnlyOnceTextArrives) {
  GeminiStreamDecoder decoder;
  StreamDecoder::Progress progress;
  decoder.Feed(R"(data: {"candidates":[{"content":{"parts":[{"text":""}],"role":"model"},"index":0}],"responseId":"r"})"
               "\n\n",
               progress);
  EXPECT_FALSE(progress.content);
  EXPECT_EQ(RenderEvents(progress.events), "start id=r model=\n");
  progress.events.clear();
  decoder.Feed("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}\n\n", progress);
  EXPECT_TRUE(progress.content);
  EXPECT_EQ(RenderEvents(progress.events), "text \"a\"\n");
}

TEST(GeminiStreamDecoderTest, HoldsTheFinishUntilTheConnectionCloses) {
  GeminiStreamDecoder decoder;
  StreamDecoder::Progress progress;
  decoder.Feed(R"(data: {"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"SAFETY"}],"responseId":"s"})"
               "\n\n",
               progress);
  EXPECT_TRUE(progress.content);
  EXPECT_FALSE(progress.done);
  EXPECT_EQ(RenderEvents(progress.events), "start id=s model=\ntext \"x\"\n");
  progress.events.clear();
  EXPECT_EQ(decoder.Finish(progress), std::nullopt);
  EXPECT_TRUE(progress.done);
  EXPECT_EQ(RenderEvents(progress.events), "finish content_filter usage=0/0/0/0\nusage 0/0/0/0\n");
  progress.events.clear();
  // Finish is idempotent and later input is ignored.
  decoder.Feed("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"y\"}]}}]}\n\n", progress);
  EXPECT_EQ(decoder.Finish(progress), std::nullopt);
  EXPECT_TRUE(progress.events.empty());
}

TEST(GeminiStreamDecoderTest, ReadsTheLastEventWithoutItsBlankLine) {
  const Outcome outcome = RunWhole(
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"ok\"}]},\"finishReason\":\"STOP\"}],\"responseId\":\"n\"}\n");
  EXPECT_EQ(outcome.events, "start id=n model=\ntext \"ok\"\nfinish stop usage=0/0/0/0\nusage 0/0/0/0\n");
  EXPECT_FALSE(outcome.finish.has_value());
}

TEST(GeminiStreamDecoderTest, ReportsResetForAnEmptyBody) {
  const Outcome outcome = RunWhole("");
  EXPECT_EQ(outcome.events, "");
  EXPECT_FALSE(outcome.content);
  ASSERT_TRUE(outcome.finish.has_value());
  EXPECT_EQ(outcome.finish->kind, FailureKind::kReset);
}

TEST(GeminiStreamDecoderTest, ReportsAnErrorBeforeContentAsARetryableFailure) {
  const Outcome outcome = RunWhole(absl::StrCat("data: ", ReadTestdata("errors/gemini_429_per_minute.json"), "\n\n"));
  EXPECT_FALSE(outcome.content);
  ASSERT_TRUE(outcome.failure.has_value());
  EXPECT_EQ(outcome.failure->kind, FailureKind::kRateLimited);
  EXPECT_EQ(outcome.failure->http_status, 429);
  EXPECT_EQ(outcome.failure->retry_after, std::chrono::milliseconds(34000));
  ASSERT_TRUE(outcome.finish.has_value());
  EXPECT_EQ(outcome.finish->kind, FailureKind::kRateLimited);
}

TEST(GeminiStreamDecoderTest, ClassifiesAJsonErrorBodyAnsweredWith200) {
  const std::string body = ReadTestdata("errors/gemini_compat_429_array.json");
  for (const Outcome& outcome : {RunWhole(body), RunBytewise(body)}) {
    EXPECT_EQ(outcome.events, "");
    EXPECT_FALSE(outcome.content);
    ASSERT_TRUE(outcome.finish.has_value());
    EXPECT_EQ(outcome.finish->kind, FailureKind::kRateLimited);
  }
}

TEST(GeminiStreamDecoderTest, ReportsAJsonBodyThatIsNotAnErrorAsMalformed) {
  const Outcome outcome = RunWhole(ReadTestdata("gemini/response_text.json"));
  EXPECT_EQ(outcome.events, "");
  ASSERT_TRUE(outcome.finish.has_value());
  EXPECT_EQ(outcome.finish->kind, FailureKind::kMalformed);
  EXPECT_EQ(outcome.finish->message, "upstream answered a stream request with JSON instead of SSE");
}

TEST(GeminiStreamDecoderTest, ReportsDataThatIsNotAnObjectAsMalformed) {
  const Outcome outcome = RunWhole("data: [1,2]\n\n");
  ASSERT_TRUE(outcome.failure.has_value());
  EXPECT_EQ(outcome.failure->kind, FailureKind::kMalformed);
  EXPECT_EQ(outcome.failure->message, "upstream stream carried an event that is not a JSON object");
}

}  // namespace
}  // namespace llmesh::provider
