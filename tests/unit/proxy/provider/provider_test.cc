#include "proxy/provider/provider.h"

#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace llmesh::provider {
namespace {

struct Rejection {
  const char* body;
  const char* message;
  const char* param;
};

void ExpectRejected(Operation operation, const Rejection& r) {
  SCOPED_TRACE(r.body);
  const absl::StatusOr<ClientRequest> request = ParseClientRequest(operation, r.body);
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(request.status().message()), r.message);
  EXPECT_EQ(ParamOf(request.status()), r.param);
}

TEST(ParseClientRequestTest, ReadsAChatRequest) {
  const absl::StatusOr<ClientRequest> request = ParseClientRequest(
      Operation::kChatCompletions,
      R"({"model":"fast","messages":[{"role":"user","content":"hi"}],"temperature":0.5})");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->operation, Operation::kChatCompletions);
  EXPECT_EQ(request->model, "fast");
  EXPECT_FALSE(request->stream);
  EXPECT_FALSE(request->include_usage);
  EXPECT_EQ(request->raw,
            R"({"model":"fast","messages":[{"role":"user","content":"hi"}],"temperature":0.5})");
}

TEST(ParseClientRequestTest, BuildsTheTreeOnlyWhenAsked) {
  absl::StatusOr<ClientRequest> request = ParseClientRequest(
      Operation::kChatCompletions,
      R"({"model":"fast","messages":[{"role":"user","content":"hi"}],"temperature":0.5})");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_TRUE(request->body.empty());
  boost::json::value storage;
  EXPECT_EQ(JsonTreeOf(*request, storage).size(), 3u);
  EXPECT_TRUE(request->body.empty());

  LoadJsonTree(*request);
  ASSERT_EQ(request->body.size(), 3u);
  EXPECT_EQ(request->body.at("temperature").as_double(), 0.5);
  EXPECT_EQ(&JsonTreeOf(*request, storage), &request->body);
}

// A body the one-pass reading leaves to the tree (a repeated model) is read the tree's way.
TEST(ParseClientRequestTest, ReadsARepeatedModelTheTreesWay) {
  const absl::StatusOr<ClientRequest> request = ParseClientRequest(
      Operation::kChatCompletions, R"({"model":"a","messages":[{"role":"user","content":"hi"}],"model":"b"})");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->model, std::string(request->body.at("model").as_string()));
  EXPECT_EQ(request->body.size(), 2u);
}

TEST(RawWithModelTest, ReplacesOnlyTheModelsValueInTheClientsBytes) {
  absl::StatusOr<ClientRequest> request = ParseClientRequest(
      Operation::kChatCompletions, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\n \"model\" : \"fast\" }\n");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(RawWithModel(*request, "gpt-4o \"x\""),
            "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\n \"model\" : \"gpt-4o \\\"x\\\"\" }\n");
  // Bytes changed since the reading: the span no longer holds the model, so nothing is spliced.
  request->raw = R"({"model":"fist","messages":[]})";
  EXPECT_EQ(RawWithModel(*request, "m"), std::nullopt);
  // A model the one-pass reading left to the tree (escaped, or repeated) has no span.
  const absl::StatusOr<ClientRequest> escaped = ParseClientRequest(
      Operation::kChatCompletions, R"({"model":"f\u0061st","messages":[{"role":"user","content":"hi"}]})");
  ASSERT_TRUE(escaped.ok()) << escaped.status();
  EXPECT_EQ(escaped->model, "fast");
  EXPECT_EQ(RawWithModel(*escaped, "m"), std::nullopt);
}

TEST(ParseClientRequestTest, ReadsStreamAndIncludeUsage) {
  const absl::StatusOr<ClientRequest> request = ParseClientRequest(
      Operation::kChatCompletions,
      R"({"model":"fast","messages":[{"role":"user","content":"hi"}],"stream":true,)"
      R"("stream_options":{"include_usage":true}})");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_TRUE(request->stream);
  EXPECT_TRUE(request->include_usage);
}

TEST(ParseClientRequestTest, IgnoresIncludeUsageWithoutStream) {
  const absl::StatusOr<ClientRequest> request = ParseClientRequest(
      Operation::kChatCompletions,
      R"({"model":"fast","messages":[{"role":"user","content":"hi"}],"stream":false,)"
      R"("stream_options":{"include_usage":true}})");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_FALSE(request->stream);
  EXPECT_FALSE(request->include_usage);
}

TEST(ParseClientRequestTest, ReadsAnEmbeddingsRequestAndNeverStreamsIt) {
  const absl::StatusOr<ClientRequest> request = ParseClientRequest(
      Operation::kEmbeddings, R"({"model":"embed","input":["a","b"],"stream":true})");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->operation, Operation::kEmbeddings);
  EXPECT_EQ(request->model, "embed");
  EXPECT_FALSE(request->stream);
}

TEST(ParseClientRequestTest, AcceptsDeeplyNestedToolSchemas) {
  std::string schema = R"({"type":"string"})";
  for (int i = 0; i < 30; ++i) schema = R"({"type":"object","properties":{"x":)" + schema + "}}";
  const std::string body = R"({"model":"m","messages":[{"role":"user","content":"hi"}],)"
                           R"("tools":[{"type":"function","function":{"name":"f","parameters":)" +
                           schema + "}}]}";
  EXPECT_TRUE(ParseClientRequest(Operation::kChatCompletions, body).ok());
}

TEST(ParseClientRequestTest, RejectsBodiesThatAreNotJsonObjects) {
  const absl::StatusOr<ClientRequest> bad = ParseClientRequest(Operation::kChatCompletions, "{\"model\":");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(bad.status().message(),
                               "We could not parse the JSON body of your request: "));
  EXPECT_EQ(ParamOf(bad.status()), "");
  ExpectRejected(Operation::kChatCompletions,
                 {"[1,2]", "We could not parse the JSON body of your request: expected a JSON object", ""});
  ExpectRejected(Operation::kChatCompletions,
                 {"", "We could not parse the JSON body of your request: incomplete JSON", ""});
}

TEST(ParseClientRequestTest, RejectsChatRequestsWithoutModelOrMessages) {
  const Rejection cases[] = {
      {R"({"messages":[{"role":"user","content":"hi"}]})", "'model' is required", "model"},
      {R"({"model":null,"messages":[{"role":"user","content":"hi"}]})", "'model' is required", "model"},
      {R"({"model":"","messages":[{"role":"user","content":"hi"}]})", "'model' is required", "model"},
      {R"({"model":7,"messages":[{"role":"user","content":"hi"}]})", "'model' must be a string", "model"},
      {R"({"model":"m"})", "'messages' must be a non-empty array", "messages"},
      {R"({"model":"m","messages":[]})", "'messages' must be a non-empty array", "messages"},
      {R"({"model":"m","messages":"hi"})", "'messages' must be a non-empty array", "messages"},
      {R"({"model":"m","messages":[{}],"stream":"yes"})", "'stream' must be a boolean", "stream"},
      {R"({"model":"m","messages":[{}],"stream":true,"stream_options":true})",
       "'stream_options' must be an object", "stream_options"},
  };
  for (const Rejection& r : cases) ExpectRejected(Operation::kChatCompletions, r);
}

TEST(ParseClientRequestTest, RejectsEmbeddingsWithoutInput) {
  ExpectRejected(Operation::kEmbeddings, {R"({"model":"e"})", "'input' is required", "input"});
  ExpectRejected(Operation::kEmbeddings, {R"({"model":"e","input":null})", "'input' is required", "input"});
  ExpectRejected(Operation::kEmbeddings, {R"({"input":"x"})", "'model' is required", "model"});
}


void ExpectAnthropicRejected(const Rejection& r) {
  SCOPED_TRACE(r.body);
  const absl::StatusOr<ClientRequest> request =
      ParseClientRequest(Operation::kChatCompletions, r.body, ApiFormat::kAnthropic);
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(request.status().message()), r.message);
  EXPECT_EQ(ParamOf(request.status()), r.param);
}

TEST(ParseClientRequestTest, ReadsAnAnthropicMessagesRequest) {
  const absl::StatusOr<ClientRequest> request = ParseClientRequest(
      Operation::kChatCompletions,
      R"({"model":"fast","max_tokens":256,"messages":[{"role":"user","content":"hi"}],"stream":true})",
      ApiFormat::kAnthropic);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->format, ApiFormat::kAnthropic);
  EXPECT_EQ(request->model, "fast");
  EXPECT_TRUE(request->stream);
  EXPECT_TRUE(request->include_usage);  // Anthropic streams always carry usage
  EXPECT_FALSE(request->chat.has_value());  // the codec fills the canonical form, not the parser
  EXPECT_EQ(request->raw,
            R"({"model":"fast","max_tokens":256,"messages":[{"role":"user","content":"hi"}],"stream":true})");
}

TEST(ParseClientRequestTest, AnAnthropicRequestWithoutStreamDoesNotStream) {
  for (const char* body : {R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"hi"}]})",
                           R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"hi"}],"stream":null})",
                           R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"hi"}],"stream":false})"}) {
    SCOPED_TRACE(body);
    const absl::StatusOr<ClientRequest> request =
        ParseClientRequest(Operation::kChatCompletions, body, ApiFormat::kAnthropic);
    ASSERT_TRUE(request.ok()) << request.status();
    EXPECT_FALSE(request->stream);
    EXPECT_FALSE(request->include_usage);
  }
}

TEST(ParseClientRequestTest, RejectsAnthropicRequestsInAnthropicsWords) {
  const Rejection cases[] = {
      {R"({"max_tokens":1,"messages":[{"role":"user","content":"hi"}]})", "model: Field required", "model"},
      {R"({"model":null,"max_tokens":1,"messages":[{"role":"user","content":"hi"}]})", "model: Field required",
       "model"},
      {R"({"model":"","max_tokens":1,"messages":[{"role":"user","content":"hi"}]})", "model: Field required",
       "model"},
      {R"({"model":7,"max_tokens":1,"messages":[{"role":"user","content":"hi"}]})",
       "model: Input should be a valid string", "model"},
      {R"({"model":"m","max_tokens":1})", "messages: Field required", "messages"},
      {R"({"model":"m","max_tokens":1,"messages":[]})", "messages: Field required", "messages"},
      {R"({"model":"m","max_tokens":1,"messages":"hi"})", "messages: Field required", "messages"},
      {R"({"model":"m","messages":[{"role":"user","content":"hi"}]})", "max_tokens: Field required", "max_tokens"},
      {R"({"model":"m","max_tokens":null,"messages":[{"role":"user","content":"hi"}]})",
       "max_tokens: Field required", "max_tokens"},
      {R"({"model":"m","max_tokens":0,"messages":[{"role":"user","content":"hi"}]})",
       "max_tokens: Input should be a positive integer", "max_tokens"},
      {R"({"model":"m","max_tokens":-5,"messages":[{"role":"user","content":"hi"}]})",
       "max_tokens: Input should be a positive integer", "max_tokens"},
      {R"({"model":"m","max_tokens":1.5,"messages":[{"role":"user","content":"hi"}]})",
       "max_tokens: Input should be a positive integer", "max_tokens"},
      {R"({"model":"m","max_tokens":"100","messages":[{"role":"user","content":"hi"}]})",
       "max_tokens: Input should be a positive integer", "max_tokens"},
      {R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"hi"}],"stream":"yes"})",
       "stream: Input should be a valid boolean", "stream"},
  };
  for (const Rejection& r : cases) ExpectAnthropicRejected(r);
}

TEST(ParseClientRequestTest, RejectsUnparseableAnthropicBodiesWithoutAParam) {
  ExpectAnthropicRejected({"[1]", "We could not parse the JSON body of your request: expected a JSON object", ""});
}

TEST(NoCanonicalFormTest, SaysWhyTheCodecCouldNotTranslate) {
  ClientRequest request;
  request.format = ApiFormat::kAnthropic;
  const absl::Status generic = NoCanonicalForm(request);
  EXPECT_EQ(generic.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(generic.message(), "the anthropic request has no translated form for this provider");
  request.untranslatable = "audio input cannot be translated to another provider's API";
  const absl::Status reason = NoCanonicalForm(request);
  EXPECT_EQ(reason.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(reason.message(), "audio input cannot be translated to another provider's API");
}

}  // namespace
}  // namespace llmesh::provider
