#include "proxy/provider/common/rate_limit_hints.h"

#include <chrono>
#include <initializer_list>
#include <string>
#include <utility>

#include <boost/json/parse.hpp>

#include "gtest/gtest.h"

namespace llmesh::provider {
namespace {

using std::chrono::milliseconds;
using Headers = std::initializer_list<std::pair<std::string, std::string>>;

// 2025-02-24T22:25:00Z, the reference instant of every date in these tests.
absl::Time Now() { return absl::FromUnixSeconds(1740435900); }

std::optional<milliseconds> Hint(Headers headers, int status = 0) {
  boost::beast::http::fields fields;
  for (const auto& [name, value] : headers) fields.insert(name, value);
  return RetryHint(fields, Now(), status);
}

TEST(RetryHintTest, NoHeadersMeansNoHint) { EXPECT_EQ(Hint({}), std::nullopt); }

TEST(RetryHintTest, ReadsRetryAfterMs) {
  EXPECT_EQ(Hint({{"retry-after-ms", "1500"}}), milliseconds(1500));
  EXPECT_EQ(Hint({{"retry-after-ms", "12.2"}}), milliseconds(13));
}

TEST(RetryHintTest, ReadsRetryAfterSecondsIncludingFractions) {
  EXPECT_EQ(Hint({{"retry-after", "12"}}), milliseconds(12000));
  EXPECT_EQ(Hint({{"retry-after", "1.5"}}), milliseconds(1500));
  EXPECT_EQ(Hint({{"retry-after", " 0 "}}), milliseconds(0));
}

TEST(RetryHintTest, ReadsRetryAfterHttpDatesRelativeToNow) {
  EXPECT_EQ(Hint({{"retry-after", "Mon, 24 Feb 2025 22:25:30 GMT"}}), milliseconds(30000));
  EXPECT_EQ(Hint({{"retry-after", "Monday, 24-Feb-25 22:26:00 GMT"}}), milliseconds(60000));
  EXPECT_EQ(Hint({{"retry-after", "Mon Feb 24 22:25:05 2025"}}), milliseconds(5000));
}

TEST(RetryHintTest, TreatsAPastDateAsRetryNow) {
  EXPECT_EQ(Hint({{"retry-after", "Mon, 24 Feb 2025 22:00:00 GMT"}}), milliseconds(0));
}

TEST(RetryHintTest, TakesTheLongestOfAllHints) {
  EXPECT_EQ(Hint({{"retry-after-ms", "2500"}, {"retry-after", "2"}}), milliseconds(2500));
  EXPECT_EQ(Hint({{"retry-after-ms", "500"},
                  {"retry-after", "2"},
                  {"x-ratelimit-remaining-tokens", "0"},
                  {"x-ratelimit-reset-tokens", "6m0s"}}),
            milliseconds(360000));
}

TEST(RetryHintTest, ReadsOpenAiResetDurationsWhenTheBudgetIsSpent) {
  const std::pair<const char*, int64_t> cases[] = {
      {"1s", 1000}, {"12ms", 12}, {"6m0s", 360000}, {"1h2m3s", 3723000},
      {"2m59.56s", 179560}, {"7.66s", 7660}};
  for (const auto& [value, expected] : cases) {
    EXPECT_EQ(Hint({{"x-ratelimit-remaining-requests", "0"}, {"x-ratelimit-reset-requests", value}}),
              milliseconds(expected))
        << value;
    EXPECT_EQ(Hint({{"x-ratelimit-remaining-tokens", "0"}, {"x-ratelimit-reset-tokens", value}}),
              milliseconds(expected))
        << value;
  }
}

TEST(RetryHintTest, IgnoresResetTimesWhileBudgetRemains) {
  EXPECT_EQ(Hint({{"x-ratelimit-remaining-requests", "59"}, {"x-ratelimit-reset-requests", "1s"}}),
            std::nullopt);
  EXPECT_EQ(Hint({{"x-ratelimit-reset-tokens", "6m0s"}}), std::nullopt);
  // The requests budget is spent, the tokens budget is not: only the requests reset counts.
  EXPECT_EQ(Hint({{"x-ratelimit-remaining-requests", "0"},
                  {"x-ratelimit-reset-requests", "2s"},
                  {"x-ratelimit-remaining-tokens", "149984"},
                  {"x-ratelimit-reset-tokens", "6m0s"}}),
            milliseconds(2000));
}

TEST(RetryHintTest, ReadsAzurePlainSecondResets) {
  EXPECT_EQ(Hint({{"x-ratelimit-remaining-tokens", "0"}, {"x-ratelimit-reset-tokens", "12"}}),
            milliseconds(12000));
  EXPECT_EQ(Hint({{"x-ratelimit-remaining-tokens", "0"}, {"x-ratelimit-reset-tokens", "-1"}}),
            std::nullopt);
}

TEST(RetryHintTest, ReadsAnthropicResetTimestampsWhenRemainingIsZero) {
  EXPECT_EQ(Hint({{"anthropic-ratelimit-requests-remaining", "0"},
                  {"anthropic-ratelimit-requests-reset", "2025-02-24T22:25:30Z"}}),
            milliseconds(30000));
  EXPECT_EQ(Hint({{"anthropic-ratelimit-output-tokens-remaining", "0"},
                  {"anthropic-ratelimit-output-tokens-reset", "2025-02-24T22:25:47.5Z"},
                  {"anthropic-ratelimit-input-tokens-remaining", "78000"},
                  {"anthropic-ratelimit-input-tokens-reset", "2025-02-24T22:26:32Z"}}),
            milliseconds(47500));
}

TEST(RetryHintTest, ReadsEveryAnthropicResetOnA429) {
  const Headers headers = {
      {"anthropic-ratelimit-requests-remaining", "999"},
      {"anthropic-ratelimit-requests-reset", "2025-02-24T22:25:30Z"},
      {"anthropic-ratelimit-tokens-remaining", "90000"},
      {"anthropic-ratelimit-tokens-reset", "2025-02-24T23:25:32+01:00"},
      {"anthropic-ratelimit-input-tokens-remaining", "78000"},
      {"anthropic-ratelimit-input-tokens-reset", "2025-02-24T22:25:32Z"},
      {"anthropic-ratelimit-output-tokens-remaining", "12000"},
      {"anthropic-ratelimit-output-tokens-reset", "2025-02-24T22:25:47Z"},
      {"retry-after", "12"}};
  EXPECT_EQ(Hint(headers, 200), milliseconds(12000));
  EXPECT_EQ(Hint(headers, 429), milliseconds(47000));
}

TEST(RetryHintTest, IgnoresGarbageValues) {
  for (const char* value : {"soon", "-5", "1e3", "inf", "nan", "", "12 s", "0x10", "1..2"}) {
    EXPECT_EQ(Hint({{"retry-after", value}}), std::nullopt) << value;
    EXPECT_EQ(Hint({{"retry-after-ms", value}}), std::nullopt) << value;
    EXPECT_EQ(Hint({{"x-ratelimit-remaining-tokens", "0"}, {"x-ratelimit-reset-tokens", value}}),
              std::nullopt)
        << value;
  }
  EXPECT_EQ(Hint({{"anthropic-ratelimit-requests-remaining", "0"},
                  {"anthropic-ratelimit-requests-reset", "tomorrow"}}),
            std::nullopt);
  EXPECT_EQ(Hint({{"retry-after", "Mon, 32 Feb 2025 22:25:30 GMT"}}), std::nullopt);
}

TEST(RetryHintTest, CapsAbsurdHints) {
  EXPECT_EQ(Hint({{"retry-after", "99999999999999999999"}}), kMaxRetryHint);
  EXPECT_EQ(Hint({{"x-ratelimit-remaining-tokens", "0"}, {"x-ratelimit-reset-tokens", "9999999h"}}),
            kMaxRetryHint);
}

boost::json::object Object(std::string_view json) {
  return boost::json::parse(boost::json::string_view(json.data(), json.size())).as_object();
}

TEST(RetryInfoHintTest, ReadsGeminiRetryDelay) {
  EXPECT_EQ(RetryInfoHint(Object(
                R"({"code":429,"details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure"},)"
                R"({"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"34s"}]})")),
            milliseconds(34000));
  EXPECT_EQ(RetryInfoHint(Object(
                R"({"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]})")),
            milliseconds(1500));
  EXPECT_EQ(RetryInfoHint(Object(R"({"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo",)"
                                 R"("retryDelay":{"seconds":3,"nanos":500000000}}]})")),
            milliseconds(3500));
}

TEST(RetryInfoHintTest, IgnoresMissingOrBadDetails) {
  EXPECT_EQ(RetryInfoHint(Object(R"({"code":429})")), std::nullopt);
  EXPECT_EQ(RetryInfoHint(Object(R"({"details":"x"})")), std::nullopt);
  EXPECT_EQ(RetryInfoHint(Object(
                R"({"details":[1,{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"later"}]})")),
            std::nullopt);
}

TEST(MessageRetryHintTest, ReadsWaitsSpokenInMessages) {
  EXPECT_EQ(MessageRetryHint("Rate limit reached ... Please try again in 5.289s. Visit ..."),
            milliseconds(5289));
  EXPECT_EQ(MessageRetryHint("Please try again in 20ms."), milliseconds(20));
  EXPECT_EQ(MessageRetryHint("Please try again in 1m30s"), milliseconds(90000));
  EXPECT_EQ(MessageRetryHint("Please retry after 12 seconds."), milliseconds(12000));
  EXPECT_EQ(MessageRetryHint("Try again in 2 minutes"), milliseconds(120000));
}

TEST(MessageRetryHintTest, FindsNothingInOtherMessages) {
  EXPECT_EQ(MessageRetryHint("Overloaded"), std::nullopt);
  EXPECT_EQ(MessageRetryHint("please try again in a moment"), std::nullopt);
  EXPECT_EQ(MessageRetryHint(""), std::nullopt);
}

}  // namespace
}  // namespace llmesh::provider
