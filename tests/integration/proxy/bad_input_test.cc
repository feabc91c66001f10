// Bad client input through the real sidecar: every malformed or unroutable request gets an
// OpenAI-shaped error with the documented status and code (docs/failover.md, "Errors the client
// sees"), none of it reaches a provider, and the proxy keeps serving afterwards.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "tests/integration/proxy/proxy_fixture.h"

namespace llmesh::testing {
namespace {

namespace beast_http = boost::beast::http;

// Checks the status and the complete error shape {"error":{"message","type","param","code"}}:
// exactly those four keys, `param` null when `param` is nullopt.
void ExpectOpenAiError(const HttpResponse& response, int status, std::string_view code,
                       std::optional<std::string_view> param) {
  EXPECT_EQ(response.status, status) << response.body << response.error;
  EXPECT_EQ(response.Header("content-type"), "application/json");
  boost::json::value body = ParseJson(response.body);
  ASSERT_TRUE(body.is_object() && body.as_object().size() == 1 && body.as_object().contains("error"))
      << response.body;
  const boost::json::object& error = body.at("error").as_object();
  ASSERT_EQ(error.size(), 4u) << response.body;
  ASSERT_TRUE(error.contains("message") && error.contains("type") && error.contains("param") &&
              error.contains("code"))
      << response.body;
  EXPECT_TRUE(error.at("message").is_string() && !error.at("message").as_string().empty()) << response.body;
  EXPECT_EQ(error.at("type").as_string(), "invalid_request_error") << response.body;
  EXPECT_EQ(error.at("code").as_string(), code) << response.body;
  if (param) {
    ASSERT_TRUE(error.at("param").is_string()) << response.body;
    EXPECT_EQ(error.at("param").as_string(), *param);
  } else {
    EXPECT_TRUE(error.at("param").is_null()) << response.body;
  }
}

// A chat body whose one message is `size` bytes of text.
std::string ChatBodyOfSize(size_t size) {
  boost::json::object body{
      {"model", "chat"},
      {"messages", boost::json::array{boost::json::object{{"role", "user"}, {"content", std::string(size, 'x')}}}}};
  return boost::json::serialize(body);
}

// One provider behind a proxy refusing bodies over 2 KiB, over the protocol the
// parameter picks (see ProxyProtocolTest).
class BadInputTest : public ProxyProtocolTest {
 protected:
  void SetUp() override {
    primary_ = &StartProvider("primary");
    StartProxy(ChatConfig({}, "limits: {max_request_body_bytes: 2048}\n"));
  }

  HttpResponse Post(std::string_view path, std::string_view body, const HttpHeaders& headers = {}) const {
    return ProxyRequest(beast_http::verb::post, path, body, headers);
  }

  FakeProviderProcess* primary_ = nullptr;
};

// The same over HTTP/1.1 only, for input that exists only in HTTP/1.1's framing.
class BadHttp1InputTest : public ProxyTest {
 protected:
  void SetUp() override {
    primary_ = &StartProvider("primary");
    StartProxy(ChatConfig({}, "limits: {max_request_body_bytes: 2048}\n"));
  }

  FakeProviderProcess* primary_ = nullptr;
};

// The same over h2 only, for h2's own framing and for several streams on one connection.
class BadHttp2InputTest : public BadInputTest {};

TEST_P(BadInputTest, EveryBadRequestGetsItsOpenAiErrorAndTheProxyKeepsServing) {
  {
    SCOPED_TRACE("invalid JSON");
    ExpectOpenAiError(Post("/v1/chat/completions", R"({"model":"chat","messages":[)"), 400,
                      "invalid_request", std::nullopt);
  }
  {
    SCOPED_TRACE("missing model");
    ExpectOpenAiError(Post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi"}]})"), 400,
                      "invalid_request", "model");
  }
  {
    SCOPED_TRACE("missing messages");
    ExpectOpenAiError(Post("/v1/chat/completions", R"({"model":"chat"})"), 400, "invalid_request", "messages");
  }
  {
    SCOPED_TRACE("unknown model alias");
    ExpectOpenAiError(Chat(/*stream=*/false, "no-such-model"), 404, "model_not_found", "model");
  }
  {
    SCOPED_TRACE("body over limits.max_request_body_bytes");
    ExpectOpenAiError(Post("/v1/chat/completions", ChatBodyOfSize(4096)), 413, "request_too_large", std::nullopt);
  }
  {
    SCOPED_TRACE("wrong method");
    HttpResponse response = ProxyRequest(beast_http::verb::get, "/v1/chat/completions");
    ExpectOpenAiError(response, 405, "method_not_allowed", std::nullopt);
    EXPECT_EQ(response.Header("allow"), "POST");
  }
  {
    SCOPED_TRACE("unknown path");
    ExpectOpenAiError(ProxyRequest(beast_http::verb::get, "/v1/no/such/path"), 404, "unknown_url", std::nullopt);
  }
  {
    SCOPED_TRACE("invalid x-llmesh-priority");
    ExpectOpenAiError(Chat(/*stream=*/false, "chat", {{"x-llmesh-priority", "urgent"}}), 400, "invalid_priority",
                      "x-llmesh-priority");
  }
  {
    SCOPED_TRACE("embeddings without input");
    ExpectOpenAiError(Post("/v1/embeddings", R"({"model":"chat"})"), 400, "invalid_request", "input");
  }
  // None of the above reached a provider.
  EXPECT_EQ(primary_->Requests(), 0u);
  {
    SCOPED_TRACE("model list");
    HttpResponse models = ProxyRequest(beast_http::verb::get, "/v1/models");
    ASSERT_EQ(models.status, 200) << models.body;
    boost::json::value body = ParseJson(models.body);
    EXPECT_EQ(body.at("object").as_string(), "list");
    bool lists_chat = false;
    for (const boost::json::value& model : body.at("data").as_array()) {
      lists_chat = lists_chat || model.at("id").as_string() == "chat";
    }
    EXPECT_TRUE(lists_chat) << models.body;
  }

  HttpResponse after = Chat();
  ASSERT_EQ(after.status, 200) << after.body << after.error;
  EXPECT_EQ(after.Header("x-llmesh-provider"), "primary");
  EXPECT_EQ(primary_->Requests(), 1u);
}

INSTANTIATE_TEST_SUITE_P(, BadInputTest, kBothProtocols, ProtocolTestName);

TEST_F(BadHttp1InputTest, GarbageBytesGetA400InOpenAiShapeAndTheProxyKeepsServing) {
  const std::string raw = RawExchange(proxy_port(), std::string("\x01\x02\x03 not http at all\r\n\r\n"));
  ASSERT_TRUE(raw.starts_with("HTTP/1.1 400 ")) << raw;
  const size_t body_start = raw.find("\r\n\r\n");
  ASSERT_NE(body_start, std::string::npos) << raw;
  boost::json::value body = ParseJson(std::string_view(raw).substr(body_start + 4));
  EXPECT_EQ(body.at("error").at("type").as_string(), "invalid_request_error") << raw;
  EXPECT_EQ(body.at("error").at("code").as_string(), "invalid_request") << raw;
  EXPECT_EQ(primary_->Requests(), 0u);

  HttpResponse after = Chat();
  ASSERT_EQ(after.status, 200) << after.body << after.error;
  EXPECT_EQ(primary_->Requests(), 1u);
}

// A refused body ends its stream only: the connection goes on serving.
TEST_P(BadHttp2InputTest, OversizedAndMalformedBodiesAreAnsweredOnTheirStreamAndTheConnectionKeepsServing) {
  HttpConnection connection(client());
  ASSERT_TRUE(connection.Connect(proxy_port()).ok());
  {
    SCOPED_TRACE("body over limits.max_request_body_bytes");
    ExpectOpenAiError(connection.Send(beast_http::verb::post, "/v1/chat/completions", ChatBodyOfSize(64 << 10)), 413,
                      "request_too_large", std::nullopt);
  }
  {
    SCOPED_TRACE("invalid JSON");
    ExpectOpenAiError(connection.Send(beast_http::verb::post, "/v1/chat/completions", R"({"model":"chat",)"), 400,
                      "invalid_request", std::nullopt);
  }
  {
    SCOPED_TRACE("content-length disagreeing with the DATA frames");
    // h2's framing check (RFC 9113 §8.1.1): a malformed request is reset, never handed on.
    HttpResponse response = connection.Send(beast_http::verb::post, "/v1/chat/completions", ChatBody(false),
                                            {{"content-length", "5"}});
    EXPECT_EQ(response.status, 0) << response.body;
    EXPECT_EQ(response.error, "stream reset: PROTOCOL_ERROR");
  }
  EXPECT_EQ(primary_->Requests(), 0u);

  HttpResponse after = connection.Send(beast_http::verb::post, "/v1/chat/completions", ChatBody(false));
  ASSERT_EQ(after.status, 200) << after.body << after.error;
  EXPECT_EQ(after.Header("x-llmesh-provider"), "primary");
  EXPECT_TRUE(after.keep_alive);
  EXPECT_EQ(primary_->Requests(), 1u);
}

// The h2 counterpart of garbage bytes: a connection whose first frame after the preface is not
// SETTINGS is a connection error (RFC 9113 §3.4): GOAWAY(PROTOCOL_ERROR), then the close.
TEST_P(BadHttp2InputTest, BrokenFramingAfterThePrefaceGetsGoawayAndTheProxyKeepsServing) {
  const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  // An empty DATA frame on stream 0: nine zero bytes.
  const std::string data_frame_on_stream_0(9, '\0');
  const std::string raw = RawExchange(proxy_port(), preface + data_frame_on_stream_0, std::chrono::seconds(5));
  // Frames: 3-byte length, type, flags, 4-byte stream id, payload. GOAWAY is type 7, its error
  // code the payload's second 4 bytes.
  std::optional<uint32_t> goaway_error;
  for (size_t at = 0; at + 9 <= raw.size();) {
    const auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(raw[i])); };
    const size_t length = (byte(at) << 16) | (byte(at + 1) << 8) | byte(at + 2);
    if (byte(at + 3) == 7 && at + 9 + 8 <= raw.size()) {
      goaway_error = (byte(at + 13) << 24) | (byte(at + 14) << 16) | (byte(at + 15) << 8) | byte(at + 16);
    }
    at += 9 + length;
  }
  ASSERT_TRUE(goaway_error.has_value()) << "no GOAWAY in " << raw.size() << " bytes";
  EXPECT_EQ(*goaway_error, 1u);  // PROTOCOL_ERROR
  EXPECT_EQ(primary_->Requests(), 0u);

  HttpResponse after = Chat();
  ASSERT_EQ(after.status, 200) << after.body << after.error;
  EXPECT_EQ(primary_->Requests(), 1u);
}

INSTANTIATE_TEST_SUITE_P(, BadHttp2InputTest, ::testing::Values(HttpProtocol::kHttp2), ProtocolTestName);

}  // namespace
}  // namespace llmesh::testing
