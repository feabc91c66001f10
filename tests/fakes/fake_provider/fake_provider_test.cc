#include "tests/fakes/fake_provider/fake_provider.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_provider/fake_provider_fixture.h"
#include "tests/unit/common/http/raw_connection.h"

extern char** environ;

namespace llmesh::fakes {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;
using http::testing::RawConnection;
using test_support::FakeProviderTest;
using test_support::HttpRequest;
using test_support::WithoutCreated;

constexpr std::string_view kStreamBody =
    R"({"model":"m1","messages":[{"role":"user","content":"hi"}],"stream":true,)"
    R"("stream_options":{"include_usage":true}})";
constexpr std::string_view kChatBody =
    R"({"model":"m1","messages":[{"role":"user","content":"hello"}]})";

TEST_F(FakeProviderTest, StreamsExactOpenAiEvents) {
  // prompt_tokens = 112 body bytes / 4 = 28.
  ASSERT_EQ(kStreamBody.size(), 112u);
  StartFake();
  auto response = Call("POST", "/v1/chat/completions", kStreamBody, "x-fake-chunks: 2\r\n");
  EXPECT_EQ(response.result(), bhttp::status::ok);
  EXPECT_EQ(response[bhttp::field::content_type], "text/event-stream");
  EXPECT_EQ(response["x-request-id"], "req_000000000000000000000001");
  EXPECT_EQ(response["x-ratelimit-remaining-requests"], "9999");
  const std::string prefix =
      R"(data: {"id":"chatcmpl-000000000000000000000001","object":"chat.completion.chunk",)"
      R"("created":0,"model":"m1","system_fingerprint":"fp_fake","choices":)";
  auto event = [&prefix](std::string_view rest) { return prefix + std::string(rest) + "\n\n"; };
  const std::string expected =
      event(R"([{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],)"
            R"("usage":null})") +
      event(R"([{"index":0,"delta":{"content":"fake-0 "},"finish_reason":null}],"usage":null})") +
      event(R"([{"index":0,"delta":{"content":"fake-1 "},"finish_reason":null}],"usage":null})") +
      event(R"([{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null})") +
      event(R"([],"usage":{"prompt_tokens":28,"completion_tokens":2,"total_tokens":30}})") +
      "data: [DONE]\n\n";
  EXPECT_EQ(WithoutCreated(response.body()), expected);
}

TEST_F(FakeProviderTest, StreamWithoutIncludeUsageHasNoUsage) {
  StartFake();
  auto response = Call("POST", "/v1/chat/completions", R"({"model":"m1","stream":true})",
                       "x-fake-chunks: 1\r\n");
  EXPECT_EQ(response.body().find("usage"), std::string::npos);
  EXPECT_NE(response.body().find(R"("delta":{"content":"fake-0 "})"), std::string::npos);
  EXPECT_TRUE(response.body().ends_with("data: [DONE]\n\n"));
}

TEST_F(FakeProviderTest, AnswersNonStreamingChatWithConcatenatedPieces) {
  // prompt_tokens = 61 body bytes / 4 = 15.
  ASSERT_EQ(kChatBody.size(), 61u);
  FakeProviderOptions options;
  options.name = "alpha";
  StartFake(options);
  auto response = Call("POST", "/v1/chat/completions", kChatBody);
  EXPECT_EQ(response.result(), bhttp::status::ok);
  EXPECT_EQ(
      WithoutCreated(response.body()),
      R"({"id":"chatcmpl-000000000000000000000001","object":"chat.completion","created":0,)"
      R"("model":"m1","system_fingerprint":"fp_fake","choices":[{"index":0,"message":)"
      R"({"role":"assistant","content":"alpha-0 alpha-1 alpha-2 ","refusal":null,)"
      R"("annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":15,)"
      R"("completion_tokens":3,"total_tokens":18,"prompt_tokens_details":{"cached_tokens":0,)"
      R"("audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,)"
      R"("accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}})");
}

TEST_F(FakeProviderTest, ScriptedServiceUnavailableCarriesRetryAfter) {
  StartFake();
  auto scripted = Call("POST", "/_fake/script", R"({"status":503,"headers":{"retry-after":"2"}})");
  ASSERT_EQ(scripted.result(), bhttp::status::ok);
  auto response = Call("POST", "/v1/chat/completions", kChatBody);
  EXPECT_EQ(response.result(), bhttp::status::service_unavailable);
  EXPECT_EQ(response["retry-after"], "2");
  EXPECT_EQ(response.find("x-ratelimit-remaining-requests"), response.end());
  EXPECT_EQ(response.body(),
            R"({"error":{"message":"The server is overloaded or not ready yet.",)"
            R"("type":"server_error","param":null,"code":"server_is_overloaded"}})");
}

TEST_F(FakeProviderTest, CountedScriptAppliesToNextRequestsOnly) {
  StartFake();
  ASSERT_TRUE(fake_->SetScript(R"({"status":429,"count":2})").ok());
  auto first = Call("POST", "/v1/chat/completions", kChatBody);
  auto second = Call("POST", "/v1/chat/completions", kChatBody);
  auto third = Call("POST", "/v1/chat/completions", kChatBody);
  EXPECT_EQ(first.result(), bhttp::status::too_many_requests);
  EXPECT_EQ(first["x-ratelimit-remaining-requests"], "0");
  EXPECT_EQ(first.body(),
            R"({"error":{"message":"Rate limit reached for requests.","type":"requests",)"
            R"("param":null,"code":"rate_limit_exceeded"}})");
  EXPECT_EQ(second.result(), bhttp::status::too_many_requests);
  EXPECT_EQ(third.result(), bhttp::status::ok);
}

TEST_F(FakeProviderTest, HeaderOverridesApplyToOneRequest) {
  StartFake();
  auto failed = Call("POST", "/v1/chat/completions", kChatBody,
                     "x-fake-status: 500\r\nx-fake-retry-after-ms: 250\r\n");
  EXPECT_EQ(failed.result(), bhttp::status::internal_server_error);
  EXPECT_EQ(failed["retry-after-ms"], "250");
  auto normal = Call("POST", "/v1/chat/completions", kChatBody);
  EXPECT_EQ(normal.result(), bhttp::status::ok);
}

TEST_F(FakeProviderTest, StatsCountRequestsAndRememberTheLastOne) {
  StartFake();
  ASSERT_TRUE(fake_->SetScript(R"({"status":503,"count":1})").ok());
  Call("POST", "/v1/chat/completions", kChatBody, "Authorization: Bearer sk-test\r\n");
  Call("POST", "/v1/chat/completions", kChatBody);
  Call("POST", "/v1/embeddings", R"({"model":"e","input":"x"})");
  Call("GET", "/v1/models", "", "Authorization: Bearer sk-last\r\n");
  json::value stats = Stats();
  EXPECT_EQ(stats.at("requests").to_number<int>(), 4);
  EXPECT_EQ(stats.at("chat").to_number<int>(), 2);
  EXPECT_EQ(stats.at("embeddings").to_number<int>(), 1);
  EXPECT_EQ(stats.at("models").to_number<int>(), 1);
  EXPECT_EQ(stats.at("scripted_failures").to_number<int>(), 1);
  EXPECT_EQ(stats.at("connections").to_number<int>(), 1);
  EXPECT_EQ(stats.at("in_flight").to_number<int>(), 0);
  EXPECT_EQ(stats.at("last_request").at("path").as_string(), "/v1/models");
  EXPECT_EQ(stats.at("last_request").at("authorization").as_string(), "Bearer sk-last");
  EXPECT_EQ(stats.at("last_request").at("body").as_string(), "");

  Call("POST", "/_fake/reset", "");
  json::value reset = Stats();
  EXPECT_EQ(reset.at("requests").to_number<int>(), 0);
  EXPECT_EQ(reset.at("connections").to_number<int>(), 0);
  EXPECT_TRUE(reset.at("last_request").is_null());
}

TEST_F(FakeProviderTest, RequiresTheConfiguredApiKey) {
  FakeProviderOptions options;
  options.api_key = "sk-good";
  StartFake(options);
  auto denied = Call("POST", "/v1/chat/completions", kChatBody, "Authorization: Bearer bad\r\n");
  EXPECT_EQ(denied.result(), bhttp::status::unauthorized);
  EXPECT_EQ(denied.body(),
            R"({"error":{"message":"Incorrect API key provided.","type":"invalid_request_error",)"
            R"("param":null,"code":"invalid_api_key"}})");
  auto allowed =
      Call("POST", "/v1/chat/completions", kChatBody, "Authorization: Bearer sk-good\r\n");
  EXPECT_EQ(allowed.result(), bhttp::status::ok);
}

TEST_F(FakeProviderTest, ListsConfiguredModels) {
  FakeProviderOptions options;
  options.models = {"a", "b"};
  StartFake(options);
  auto response = Call("GET", "/v1/models", "");
  EXPECT_EQ(response.body(),
            R"({"object":"list","data":[{"id":"a","object":"model","created":1715367049,)"
            R"("owned_by":"fake"},{"id":"b","object":"model","created":1715367049,)"
            R"("owned_by":"fake"}]})");
}

TEST_F(FakeProviderTest, EmbedsEachInputWithEightFloats) {
  StartFake();
  auto response = Call("POST", "/v1/embeddings", R"({"model":"emb","input":["one","two"]})");
  ASSERT_EQ(response.result(), bhttp::status::ok);
  json::value body = json::parse(response.body());
  EXPECT_EQ(body.at("model").as_string(), "emb");
  ASSERT_EQ(body.at("data").as_array().size(), 2u);
  EXPECT_EQ(body.at("data").at(1).at("index").to_number<int>(), 1);
  EXPECT_EQ(body.at("data").at(0).at("embedding").as_array().size(), 8u);
  EXPECT_NE(body.at("data").at(0).at("embedding"), body.at("data").at(1).at("embedding"));
  // 37 body bytes / 4.
  EXPECT_EQ(body.at("usage").at("prompt_tokens").to_number<int>(), 9);
  // Deterministic: the same input gives the same vector.
  auto again = Call("POST", "/v1/embeddings", R"({"model":"emb","input":"one"})");
  EXPECT_EQ(json::parse(again.body()).at("data").at(0).at("embedding"),
            body.at("data").at(0).at("embedding"));
}

TEST_F(FakeProviderTest, EmbeddingsHonourEncodingFormat) {
  StartFake();
  auto base64 = Call("POST", "/v1/embeddings",
                     R"({"model":"emb","input":["one","two"],"encoding_format":"base64"})");
  ASSERT_EQ(base64.result(), bhttp::status::ok);
  json::value body = json::parse(base64.body());
  ASSERT_EQ(body.at("data").as_array().size(), 2u);
  // 8 float32 = 32 bytes = 44 base64 characters; values are pinned in openai_render_test.cc.
  EXPECT_EQ(body.at("data").at(0).at("embedding").as_string(),
            "/v19v9DPTz/CwUE/hIMDv7u6ur7n5uY+vLs7v5CPD78=");
  EXPECT_EQ(body.at("data").at(1).at("embedding").as_string().size(), 44u);

  for (const char* format : {R"("float")", "null"}) {
    SCOPED_TRACE(format);
    auto floats = Call("POST", "/v1/embeddings",
                       absl::StrCat(R"({"model":"emb","input":"one","encoding_format":)", format,
                                    "}"));
    ASSERT_EQ(floats.result(), bhttp::status::ok);
    EXPECT_EQ(json::parse(floats.body()).at("data").at(0).at("embedding").as_array().size(), 8u);
  }

  auto bad = Call("POST", "/v1/embeddings",
                  R"({"model":"emb","input":"one","encoding_format":"int8"})");
  EXPECT_EQ(bad.result(), bhttp::status::bad_request);
  EXPECT_EQ(bad.body(),
            R"({"error":{"message":"Invalid value for 'encoding_format': \"int8\". )"
            R"(Supported values are: 'float' and 'base64'.","type":"invalid_request_error",)"
            R"("param":null,"code":null}})");
}

TEST_F(FakeProviderTest, ErrorAfterEventsEndsStreamWithErrorEvent) {
  StartFake();
  auto response = Call("POST", "/v1/chat/completions", R"({"model":"m1","stream":true})",
                       "x-fake-error-after-events: 2\r\n");
  const std::string& body = response.body();
  EXPECT_NE(body.find(R"("content":"fake-0 ")"), std::string::npos);
  EXPECT_EQ(body.find(R"("content":"fake-1 ")"), std::string::npos);
  EXPECT_TRUE(body.ends_with(
      "data: {\"error\":{\"message\":\"The server had an error while processing your "
      "request.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n"));
  EXPECT_EQ(body.find("[DONE]"), std::string::npos);
}

TEST_F(FakeProviderTest, ResetAfterEventsResetsTheConnectionMidStream) {
  StartFake();
  ASSERT_TRUE(
      client_->Send(HttpRequest("POST", "/v1/chat/completions", R"({"model":"m1","stream":true})",
                                "x-fake-reset-after-events: 2\r\n")));
  ASSERT_TRUE(client_->ReadUntil(R"("content":"fake-0 ")").has_value());
  EXPECT_EQ(client_->WaitForClose(), RawConnection::CloseKind::kReset);
  EXPECT_EQ(client_->Pending().find("fake-1"), std::string::npos);
}

TEST_F(FakeProviderTest, CloseBeforeResponseResetsWithoutAnswer) {
  StartFake();
  ASSERT_TRUE(fake_->SetScript(R"({"close_before_response":true})").ok());
  ASSERT_TRUE(client_->Send(HttpRequest("POST", "/v1/chat/completions", kChatBody)));
  EXPECT_EQ(client_->WaitForClose(), RawConnection::CloseKind::kReset);
  EXPECT_EQ(client_->Pending(), "");
}

TEST_F(FakeProviderTest, MalformedSendsTruncatedJson) {
  StartFake();
  auto response = Call("POST", "/v1/chat/completions", kChatBody, "x-fake-malformed: true\r\n");
  EXPECT_EQ(response.result(), bhttp::status::ok);
  boost::system::error_code ec;
  json::parse(response.body(), ec);
  EXPECT_TRUE(ec);
  EXPECT_TRUE(response.body().starts_with(R"({"id":"chatcmpl-)"));
}

TEST_F(FakeProviderTest, HangHoldsTheRequestUntilTheClientLeaves) {
  StartFake();
  RawConnection hung(fake_->port(), std::chrono::milliseconds(300));
  ASSERT_TRUE(
      hung.Send(HttpRequest("POST", "/v1/chat/completions", kChatBody, "x-fake-hang: 1\r\n")));
  EXPECT_EQ(hung.WaitForClose(), RawConnection::CloseKind::kTimeout);
  EXPECT_EQ(Stats().at("in_flight").to_number<int>(), 1);
  hung.Close();
}

TEST_F(FakeProviderTest, FailProbabilityFailsOnlyAShare) {
  StartFake();
  ASSERT_TRUE(fake_->SetScript(R"({"status":500,"fail_probability":0.5})").ok());
  int failed = 0;
  for (int i = 0; i < 200; ++i) {
    if (Call("GET", "/v1/models", "").result() != bhttp::status::ok) ++failed;
  }
  // P(all 200 on one side) = 2^-199.
  EXPECT_GT(failed, 0);
  EXPECT_LT(failed, 200);
  EXPECT_EQ(Stats().at("scripted_failures").to_number<int>(), failed);
}

TEST_F(FakeProviderTest, RejectsBadScriptsNamingTheKey) {
  StartFake();
  auto response = Call("POST", "/_fake/script", R"({"statuss":503})");
  EXPECT_EQ(response.result(), bhttp::status::bad_request);
  EXPECT_NE(response.body().find("statuss"), std::string::npos);
}

TEST_F(FakeProviderTest, UnknownPathIsOpenAiShaped404) {
  StartFake();
  auto response = Call("POST", "/v1/nothing", "{}");
  EXPECT_EQ(response.result(), bhttp::status::not_found);
  EXPECT_EQ(response.body(), R"j({"error":{"message":"Invalid URL (POST /v1/nothing)",)j"
                             R"("type":"invalid_request_error","param":null,"code":null}})");
}

// Reads the child's stderr until the "listening" line; returns the port or 0.
uint16_t ReadListeningPort(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string output;
  static const std::regex kListening(
      R"re("msg":"listening","listener":"fake","address":"127\.0\.0\.1:([0-9]+)")re");
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd poll_fd{fd, POLLIN, 0};
    if (poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) break;
    char buffer[512];
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    output.append(buffer, static_cast<size_t>(n));
    std::smatch match;
    if (std::regex_search(output, match, kListening)) {
      return static_cast<uint16_t>(std::stoi(match[1]));
    }
  }
  return 0;
}

TEST(FakeProviderBinaryTest, ServesAndExitsCleanlyOnSigterm) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  std::vector<std::string> args = {LLMESH_FAKE_PROVIDER_BIN,
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--workers",
                                   "2",
                                   "--name",
                                   "bin",
                                   "--models",
                                   "x,y"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);

  const uint16_t port = ReadListeningPort(pipe_fds[0], std::chrono::seconds(10));
  EXPECT_NE(port, 0);
  if (port != 0) {
    RawConnection client(port);
    ASSERT_TRUE(client.Send(HttpRequest("POST", "/v1/chat/completions", kChatBody)));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.has_value());
    EXPECT_NE(response->body().find(R"("content":"bin-0 bin-1 bin-2 ")"), std::string::npos);
  }
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  // Wait for the exit with a deadline: a pidfd becomes readable when the child exits.
  const int pid_fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  ASSERT_GE(pid_fd, 0);
  pollfd exit_poll{pid_fd, POLLIN, 0};
  const bool exited = poll(&exit_poll, 1, 10000) == 1;
  close(pid_fd);
  if (!exited) kill(pid, SIGKILL);
  EXPECT_TRUE(exited);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  close(pipe_fds[0]);
}

}  // namespace
}  // namespace llmesh::fakes
