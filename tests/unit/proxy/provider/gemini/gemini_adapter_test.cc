#include "proxy/provider/gemini/gemini_adapter.h"

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/provider/gemini/gemini_stream_decoder.h"
#include "tests/unit/proxy/provider/gemini/gemini_test_support.h"
#include "tests/unit/proxy/provider/provider_test_support.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

using testing::CanonicalRequest;
using testing::Compact;
using ::testing::ElementsAre;
using testing::HeaderList;
using ::testing::Pair;
using testing::ReadTestdata;

ClientRequest Chat(std::string_view body) { return CanonicalRequest(Operation::kChatCompletions, body); }

TEST(GeminiAdapterTest, SpeaksGeminiAndIsStateless) {
  const GeminiAdapter adapter;
  EXPECT_EQ(adapter.format(), ApiFormat::kGemini);
  static_assert(std::is_default_constructible_v<GeminiAdapter>);
  static_assert(std::is_empty_v<GeminiAdapter> || sizeof(GeminiAdapter) == sizeof(void*),
                "GeminiAdapter holds no state besides its vtable");
}

TEST(GeminiAdapterEncodeTest, PostsAStreamToStreamGenerateContentWithSse) {
  const GeminiAdapter adapter;
  const ClientRequest request = Chat(ReadTestdata("gemini/chat_request.json"));
  ASSERT_TRUE(request.stream);
  const absl::StatusOr<EncodedRequest> encoded =
      adapter.Encode(request, TargetCall{"/v1beta", "gemini-2.5-flash", "AIza-test"});
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->method, boost::beast::http::verb::post);
  EXPECT_EQ(encoded->target, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  EXPECT_EQ(encoded->body, Compact(ReadTestdata("gemini/chat_request.encoded.json")));
  EXPECT_THAT(HeaderList(*encoded),
              ElementsAre(Pair("x-goog-api-key", "AIza-test"), Pair("content-type", "application/json"),
                          Pair("accept", "text/event-stream")));
}

TEST(GeminiAdapterEncodeTest, PostsAnAnswerToGenerateContentWithTheConfiguredCap) {
  const GeminiAdapter adapter;
  const ClientRequest request = Chat(ReadTestdata("gemini/json_schema_request.json"));
  TargetCall call{"/v1beta/", "gemini-2.5-pro", ""};
  call.max_output_tokens = 2048;
  const absl::StatusOr<EncodedRequest> encoded = adapter.Encode(request, call);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->target, "/v1beta/models/gemini-2.5-pro:generateContent");
  EXPECT_EQ(encoded->body, Compact(ReadTestdata("gemini/json_schema_request.encoded.json")));
  EXPECT_THAT(HeaderList(*encoded),
              ElementsAre(Pair("content-type", "application/json"), Pair("accept", "application/json")));
}

TEST(GeminiAdapterEncodeTest, PostsEmbeddingsToBatchEmbedContents) {
  const GeminiAdapter adapter;
  const ClientRequest request =
      CanonicalRequest(Operation::kEmbeddings, ReadTestdata("gemini/embeddings_request.json"));
  const absl::StatusOr<EncodedRequest> encoded =
      adapter.Encode(request, TargetCall{"", "text-embedding-004", "AIza-test"});
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->target, "/models/text-embedding-004:batchEmbedContents");
  EXPECT_EQ(encoded->body, Compact(ReadTestdata("gemini/embeddings_request.encoded.json")));
  EXPECT_THAT(HeaderList(*encoded),
              ElementsAre(Pair("x-goog-api-key", "AIza-test"), Pair("content-type", "application/json"),
                          Pair("accept", "application/json")));
}

TEST(GeminiAdapterEncodeTest, RefusesARequestWithoutCanonicalForm) {
  const GeminiAdapter adapter;
  absl::StatusOr<ClientRequest> request =
      ParseClientRequest(Operation::kChatCompletions, R"({"model":"m","messages":[{"role":"user","content":"x"}]})");
  ASSERT_TRUE(request.ok());
  absl::StatusOr<EncodedRequest> encoded = adapter.Encode(*request, TargetCall{"/v1beta", "g", "k"});
  EXPECT_EQ(encoded.status(), NoCanonicalForm(*request));
  EXPECT_EQ(encoded.status().code(), absl::StatusCode::kFailedPrecondition);

  request->untranslatable = "audio input cannot be translated to another provider's API";
  encoded = adapter.Encode(*request, TargetCall{"/v1beta", "g", "k"});
  EXPECT_EQ(encoded.status(),
            absl::FailedPreconditionError("audio input cannot be translated to another provider's API"));

  absl::StatusOr<ClientRequest> embeddings =
      ParseClientRequest(Operation::kEmbeddings, R"({"model":"e","input":"x"})");
  ASSERT_TRUE(embeddings.ok());
  EXPECT_EQ(adapter.Encode(*embeddings, TargetCall{"/v1beta", "e", "k"}).status(), NoCanonicalForm(*embeddings));
}

TEST(GeminiAdapterEncodeTest, RefusesSeveralChoicesSayingWhy) {
  const GeminiAdapter adapter;
  const absl::StatusOr<EncodedRequest> encoded =
      adapter.Encode(Chat(R"({"model":"m","messages":[{"role":"user","content":"x"}],"n":3})"),
                     TargetCall{"/v1beta", "g", "k"});
  EXPECT_EQ(encoded.status(), absl::FailedPreconditionError(
                                  "n=3 cannot be sent to Gemini: the answer is translated into a single choice"));
}

TEST(GeminiAdapterDecodeTest, DecodesChatAndEmbeddingsAnswers) {
  const GeminiAdapter adapter;
  const DecodedResponse chat = adapter.Decode(Chat(R"({"model":"m","messages":[{"role":"user","content":"x"}]})"), 200,
                                              ReadTestdata("gemini/response_text.json"));
  ASSERT_TRUE(chat.chat.has_value());
  EXPECT_EQ(chat.chat->text, "It is 18C in Paris.");
  EXPECT_EQ(chat.usage.prompt_tokens, 21u);

  const DecodedResponse embeddings =
      adapter.Decode(CanonicalRequest(Operation::kEmbeddings, ReadTestdata("gemini/embeddings_request.json")), 200,
                     ReadTestdata("gemini/embeddings_response.json"));
  ASSERT_TRUE(embeddings.embeddings.has_value());
  EXPECT_EQ(embeddings.embeddings->model, "embed");
  EXPECT_EQ(embeddings.embeddings->vectors.size(), 2u);
}

TEST(GeminiAdapterDecodeTest, GivesEachStreamItsOwnGeminiDecoder) {
  const GeminiAdapter adapter;
  const ClientRequest request = Chat(ReadTestdata("gemini/chat_request.json"));
  std::unique_ptr<StreamDecoder> first = adapter.NewStreamDecoder(request);
  std::unique_ptr<StreamDecoder> second = adapter.NewStreamDecoder(request);
  ASSERT_NE(dynamic_cast<GeminiStreamDecoder*>(first.get()), nullptr);
  EXPECT_NE(first.get(), second.get());
}

struct ErrorCase {
  const char* file;  // errors/<file>
  int status;
  FailureKind kind;
  const char* type;
  std::optional<std::chrono::milliseconds> retry_after;
};

const ErrorCase kErrors[] = {
    {"gemini_429_per_minute.json", 429, FailureKind::kRateLimited, "RESOURCE_EXHAUSTED", std::chrono::seconds(34)},
    {"gemini_429_per_day.json", 429, FailureKind::kQuota, "RESOURCE_EXHAUSTED", std::chrono::hours(12)},
    {"gemini_compat_429_array.json", 429, FailureKind::kRateLimited, "RESOURCE_EXHAUSTED", std::nullopt},
    {"gemini_400_token_count.json", 400, FailureKind::kContextLength, "INVALID_ARGUMENT", std::nullopt},
    {"gemini_400_api_key_invalid.json", 400, FailureKind::kAuth, "INVALID_ARGUMENT", std::nullopt},
    {"gemini_400_failed_precondition.json", 400, FailureKind::kAuth, "FAILED_PRECONDITION", std::nullopt},
    {"gemini_400_invalid_schema.json", 400, FailureKind::kInvalidRequest, "INVALID_ARGUMENT", std::nullopt},
    {"gemini_403_permission_denied.json", 403, FailureKind::kAuth, "PERMISSION_DENIED", std::nullopt},
    {"gemini_404_not_found.json", 404, FailureKind::kModelNotFound, "NOT_FOUND", std::nullopt},
    {"gemini_500_internal.json", 500, FailureKind::kServerError, "INTERNAL", std::nullopt},
    {"gemini_503_unavailable.json", 503, FailureKind::kOverloaded, "UNAVAILABLE", std::nullopt},
    {"gemini_504_deadline_exceeded.json", 504, FailureKind::kServerError, "DEADLINE_EXCEEDED", std::nullopt},
};

TEST(GeminiAdapterDecodeErrorTest, ClassifiesGoogleErrorBodiesWithRetryHints) {
  const GeminiAdapter adapter;
  const absl::Time now = absl::FromUnixSeconds(1795501800);
  for (const ErrorCase& error : kErrors) {
    SCOPED_TRACE(error.file);
    const UpstreamFailure failure = adapter.DecodeError(error.status, boost::beast::http::fields(),
                                                        ReadTestdata(absl::StrCat("errors/", error.file)), now);
    EXPECT_EQ(FailureKindName(failure.kind), FailureKindName(error.kind));
    EXPECT_EQ(failure.http_status, error.status);
    EXPECT_EQ(failure.type, error.type);
    EXPECT_EQ(failure.retry_after, error.retry_after);
    EXPECT_FALSE(failure.message.empty());
  }
}

TEST(GeminiAdapterDecodeErrorTest, PrefersTheRetryAfterHeaderToRetryInfo) {
  const GeminiAdapter adapter;
  boost::beast::http::fields headers;
  headers.set("retry-after", "60");
  const UpstreamFailure failure =
      adapter.DecodeError(429, headers, ReadTestdata("errors/gemini_429_per_minute.json"), absl::FromUnixSeconds(0));
  EXPECT_EQ(failure.kind, FailureKind::kRateLimited);
  EXPECT_EQ(failure.retry_after, std::chrono::seconds(60));
}

TEST(GeminiAdapterDecodeErrorTest, ClassifiesANonJsonBodyByStatus) {
  const GeminiAdapter adapter;
  const UpstreamFailure failure =
      adapter.DecodeError(502, boost::beast::http::fields(), "<html>Bad Gateway</html>", absl::FromUnixSeconds(0));
  EXPECT_EQ(failure.kind, FailureKind::kServerError);
  EXPECT_EQ(failure.http_status, 502);
  EXPECT_EQ(failure.retry_after, std::nullopt);
}

}  // namespace
}  // namespace llmesh::provider
