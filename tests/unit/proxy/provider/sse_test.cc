#include "proxy/provider/common/sse.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using Events = std::vector<std::pair<std::string, std::string>>;

// Feeds `pieces` in order and returns every (event, data) dispatched.
Events Parse(const std::vector<std::string_view>& pieces, bool finish = false) {
  SseParser parser;
  Events events;
  auto sink = [&](const SseEvent& e) {
    events.emplace_back(std::string(e.event), std::string(e.data));
    return true;
  };
  for (std::string_view piece : pieces) EXPECT_TRUE(parser.Feed(piece, sink));
  if (finish) {
    EXPECT_TRUE(parser.Finish(sink));
  }
  return events;
}

Events Parse(std::string_view whole) { return Parse(std::vector<std::string_view>{whole}); }

TEST(SseParserTest, DispatchesADataEventAtTheBlankLine) {
  EXPECT_THAT(Parse("data: {\"a\":1}\n\n"), ElementsAre(Pair("", "{\"a\":1}")));
}

TEST(SseParserTest, HoldsAnEventUntilItsBlankLineArrives) {
  EXPECT_TRUE(Parse("data: x\n").empty());
}

TEST(SseParserTest, JoinsMultipleDataLinesWithNewline) {
  EXPECT_THAT(Parse("data: a\ndata:b\ndata:  c\n\n"), ElementsAre(Pair("", "a\nb\n c")));
}

TEST(SseParserTest, ReadsEventNamesAndResetsThemAfterDispatch) {
  EXPECT_THAT(Parse("event: message_start\ndata: {}\n\ndata: 2\n\n"),
              ElementsAre(Pair("message_start", "{}"), Pair("", "2")));
}

TEST(SseParserTest, IgnoresCommentLinesSuchAsKeepAlives) {
  EXPECT_THAT(Parse(": keep-alive\n\n:\n\ndata: 1\n: inside\n\n"), ElementsAre(Pair("", "1")));
}

TEST(SseParserTest, AcceptsLfCrlfAndLoneCrLineEndings) {
  EXPECT_THAT(Parse("data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\r\n\n"),
              ElementsAre(Pair("", "a"), Pair("", "b"), Pair("", "c"), Pair("", "d")));
}

TEST(SseParserTest, IgnoresIdRetryAndUnknownFields) {
  EXPECT_THAT(Parse("id: 7\nretry: 100\nfoo: bar\ndata: x\n\n"), ElementsAre(Pair("", "x")));
}

TEST(SseParserTest, DoesNotDispatchAnEventWithoutData) {
  EXPECT_THAT(Parse("event: ping\n\ndata: x\n\n"), ElementsAre(Pair("", "x")));
}

TEST(SseParserTest, TreatsAFieldWithoutColonAsEmptyValue) {
  EXPECT_THAT(Parse("data\n\n"), ElementsAre(Pair("", "")));
}

TEST(SseParserTest, ProducesTheSameEventsForEveryTwoPieceSplit) {
  const std::string input =
      ": keep-alive\r\n\r\nevent: content_block_delta\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\n"
      "data: [DONE]\n\ndata: lone\r\rdata: tail\r\n\r\n";
  const Events expected = Parse(input);
  ASSERT_EQ(expected.size(), 4u);
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    const std::string_view whole(input);
    EXPECT_EQ(Parse({whole.substr(0, cut), whole.substr(cut)}), expected) << "cut at " << cut;
  }
}

TEST(SseParserTest, ProducesTheSameEventsForOneBytePieces) {
  const std::string input = testing::ReadTestdata("openai/azure_prompt_filter_stream.sse");
  const Events expected = Parse(input);
  ASSERT_EQ(expected.size(), 6u);
  std::vector<std::string_view> pieces;
  for (size_t i = 0; i < input.size(); ++i) pieces.push_back(std::string_view(input).substr(i, 1));
  EXPECT_EQ(Parse(pieces), expected);
}

TEST(SseParserTest, HandsOutViewsIntoTheInputForAnEventWithinOneBuffer) {
  const std::string input = "event: e\ndata: payload\n\n";
  SseParser parser;
  bool called = false;
  parser.Feed(input, [&](const SseEvent& e) {
    called = true;
    EXPECT_GE(e.data.data(), input.data());
    EXPECT_LE(e.data.data() + e.data.size(), input.data() + input.size());
    EXPECT_GE(e.event.data(), input.data());
    EXPECT_LE(e.event.data() + e.event.size(), input.data() + input.size());
    return true;
  });
  EXPECT_TRUE(called);
}

TEST(SseParserTest, KeepsAnEventThatSpansBuffersAfterTheFirstBufferIsGone) {
  SseParser parser;
  Events events;
  auto sink = [&](const SseEvent& e) {
    events.emplace_back(std::string(e.event), std::string(e.data));
    return true;
  };
  {
    std::string first = "event: one\ndata: first half";
    parser.Feed(first, sink);
    first.assign(first.size(), 'X');  // the parser must not read the caller's buffer later
  }
  parser.Feed("\ndata: second\n\n", sink);
  EXPECT_THAT(events, ElementsAre(Pair("one", "first half\nsecond")));
}

TEST(SseParserTest, StopsForGoodWhenTheSinkReturnsFalse) {
  SseParser parser;
  int calls = 0;
  auto sink = [&](const SseEvent&) {
    ++calls;
    return false;
  };
  EXPECT_TRUE(parser.Feed("data: 1\n\ndata: 2\n\n", sink));
  EXPECT_TRUE(parser.Feed("data: 3\n\n", sink));
  EXPECT_TRUE(parser.stopped());
  EXPECT_EQ(calls, 1);
}

TEST(SseParserTest, FailsWhenAnEventExceedsTheSizeLimit) {
  SseParser parser(/*max_event_bytes=*/16);
  auto sink = [](const SseEvent&) { return true; };
  EXPECT_TRUE(parser.Feed("data: 0123456789\n\n", sink));
  EXPECT_FALSE(parser.Feed("data: 0123456789abcdefghij\n\n", sink));
  EXPECT_TRUE(parser.failed());
  EXPECT_FALSE(parser.Feed("data: x\n\n", sink));
}

TEST(SseParserTest, FailsWhenALineNeverEnds) {
  SseParser parser(/*max_event_bytes=*/16);
  auto sink = [](const SseEvent&) { return true; };
  EXPECT_TRUE(parser.Feed("data: 01234", sink));
  EXPECT_FALSE(parser.Feed("56789abcdef", sink));
}

TEST(SseParserTest, FinishDispatchesAnEventMissingOnlyItsBlankLine) {
  EXPECT_THAT(Parse({"data: a\n\ndata: last\n"}, /*finish=*/true),
              ElementsAre(Pair("", "a"), Pair("", "last")));
}

TEST(SseParserTest, FinishDiscardsAnUnterminatedLine) {
  EXPECT_THAT(Parse({"data: a\n\ndata: trunc"}, /*finish=*/true), ElementsAre(Pair("", "a")));
}

TEST(AppendSseEventTest, WritesTheNameWhenGivenAndOneDataLinePerLine) {
  std::string wire;
  AppendSseEvent(wire, /*event_name=*/{}, "a\nb");
  AppendSseEvent(wire, "ping", "{}");
  EXPECT_EQ(wire, "data: a\ndata: b\n\nevent: ping\ndata: {}\n\n");
}

}  // namespace
}  // namespace llmesh::provider
