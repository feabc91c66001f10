// Streaming through the real sidecar: DESIGN.md §3's commit point. Events are held until the
// first content event, then forwarded as they arrive; a failure before it fails over without a
// trace, a failure after it ends the stream with an error event and never with a clean end.
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "tests/integration/proxy/proxy_fixture.h"

namespace llmesh::testing {
namespace {

namespace beast_http = boost::beast::http;
using std::chrono::milliseconds;

// The `delta.content` texts of the chunks of an SSE body, concatenated.
std::string StreamedText(const std::vector<std::string>& events) {
  std::string text;
  for (const std::string& event : events) {
    if (event == "[DONE]") continue;
    boost::json::value chunk = ParseJson(event);
    const boost::json::array* choices = chunk.is_object() && chunk.as_object().contains("choices")
                                            ? chunk.at("choices").if_array()
                                            : nullptr;
    if (choices == nullptr) continue;
    for (const boost::json::value& choice : *choices) {
      const boost::json::value* content = choice.at("delta").as_object().if_contains("content");
      if (content != nullptr && content->is_string()) text += content->as_string();
    }
  }
  return text;
}

// True when the event is a chunk carrying a usage object (not `"usage":null`).
bool HasUsageObject(const std::string& event) {
  if (event == "[DONE]") return false;
  boost::json::value chunk = ParseJson(event);
  const boost::json::value* usage = chunk.is_object() ? chunk.as_object().if_contains("usage") : nullptr;
  return usage != nullptr && usage->is_object();
}

class StreamingTest : public ProxyTest {
 protected:
  void SetUp() override {
    primary_ = &StartProvider("primary");
    secondary_ = &StartProvider("secondary");
  }

  // Starts a streamed chat request through the proxy; fails the test unless a head arrives.
  void StartStream(StreamReader& reader, std::string_view body) {
    ASSERT_TRUE(reader.Start(proxy_port(), beast_http::verb::post, "/v1/chat/completions", body).ok())
        << reader.error();
  }

  FakeProviderProcess* primary_ = nullptr;
  FakeProviderProcess* secondary_ = nullptr;
};

TEST_F(StreamingTest, FirstChunkReachesClientBeforeUpstreamFinishes) {
  StartProxy(ChatConfig());
  primary_->Script(R"({"chunks":3,"chunk_interval_ms":400})");
  StreamReader reader;
  StartStream(reader, ChatBody(/*stream=*/true));
  ASSERT_EQ(reader.status(), 200);
  EXPECT_EQ(reader.headers()["x-llmesh-provider"], "primary");

  std::string received;
  for (int i = 0; i < 100 && received.find("primary-0") == std::string::npos; ++i) {
    std::optional<std::string> piece = reader.NextChunk(milliseconds(5000));
    ASSERT_TRUE(piece.has_value()) << reader.error() << "\nreceived: " << received;
    received += *piece;
  }
  ASSERT_NE(received.find("primary-0"), std::string::npos) << received;
  // The upstream request is still open when the client already holds the first content:
  // the proxy forwarded it instead of buffering the answer.
  EXPECT_EQ(primary_->Stats().at("in_flight").to_number<int>(), 1);
  EXPECT_EQ(received.find("primary-2"), std::string::npos) << received;

  received += reader.ReadToEnd();
  EXPECT_TRUE(reader.ClosedCleanly()) << reader.error();
  std::vector<std::string> events = SseEvents(received);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), "[DONE]");
  EXPECT_EQ(StreamedText(events), "primary-0 primary-1 primary-2 ");
}

TEST_F(StreamingTest, ResetBeforeFirstContentFailsOverInvisibly) {
  StartProxy(ChatConfig());
  // Only the role chunk goes out before the reset: nothing the client could have seen.
  primary_->Script(R"({"reset_after_events":1})");
  HttpResponse response = Chat(/*stream=*/true);
  ASSERT_EQ(response.status, 200) << response.body << response.error;
  EXPECT_EQ(response.Header("x-llmesh-provider"), "secondary");
  EXPECT_EQ(response.Header("x-llmesh-attempts"), "2");
  EXPECT_EQ(response.body.find("primary"), std::string::npos) << response.body;
  std::vector<std::string> events = SseEvents(response.body);
  // Role chunk, three content chunks, the finish chunk and [DONE].
  ASSERT_EQ(events.size(), 6u) << response.body;
  EXPECT_EQ(events.back(), "[DONE]");
  EXPECT_EQ(StreamedText(events), "secondary-0 secondary-1 secondary-2 ");
  EXPECT_EQ(primary_->Requests(), 1u);
  EXPECT_EQ(Metric("llmesh_failovers_total", {R"(from_provider="primary")", R"(reason="reset")"}), 1);
}

TEST_F(StreamingTest, ResetAfterContentEndsStreamWithErrorEventNotACleanEnd) {
  StartProxy(ChatConfig());
  // Role chunk, primary-0, primary-1, then a TCP reset.
  primary_->Script(R"({"reset_after_events":3})");
  StreamReader reader;
  StartStream(reader, ChatBody(/*stream=*/true));
  ASSERT_EQ(reader.status(), 200);
  EXPECT_EQ(reader.headers()["x-llmesh-provider"], "primary");
  EXPECT_EQ(reader.headers()["x-llmesh-attempts"], "1");

  const std::string body = reader.ReadToEnd();
  EXPECT_TRUE(reader.finished());
  EXPECT_FALSE(reader.ClosedCleanly());
  // The proxy ended the connection itself rather than leaving the client to time out.
  EXPECT_NE(reader.error(), "timeout");

  std::vector<std::string> events = SseEvents(body);
  ASSERT_EQ(events.size(), 4u) << body;
  EXPECT_EQ(StreamedText({events[0], events[1], events[2]}), "primary-0 primary-1 ");
  boost::json::value error = ParseJson(events[3]);
  ASSERT_TRUE(error.is_object() && error.as_object().contains("error")) << events[3];
  const boost::json::object& inner = error.at("error").as_object();
  EXPECT_TRUE(inner.contains("message"));
  EXPECT_TRUE(inner.contains("type"));
  EXPECT_TRUE(inner.contains("param"));
  EXPECT_TRUE(inner.contains("code"));
  EXPECT_EQ(body.find("[DONE]"), std::string::npos) << body;
  EXPECT_EQ(secondary_->Requests(), 0u);
}

TEST_F(StreamingTest, ErrorEventBeforeContentFailsOver) {
  StartProxy(ChatConfig());
  primary_->Script(R"({"error_after_events":1})");
  HttpResponse response = Chat(/*stream=*/true);
  ASSERT_EQ(response.status, 200) << response.body << response.error;
  EXPECT_EQ(response.Header("x-llmesh-provider"), "secondary");
  EXPECT_EQ(response.Header("x-llmesh-attempts"), "2");
  EXPECT_EQ(response.body.find("primary"), std::string::npos) << response.body;
  EXPECT_EQ(response.body.find("\"error\""), std::string::npos) << response.body;
  std::vector<std::string> events = SseEvents(response.body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), "[DONE]");
  EXPECT_EQ(StreamedText(events), "secondary-0 secondary-1 secondary-2 ");
  EXPECT_EQ(primary_->Requests(), 1u);
  EXPECT_EQ(secondary_->Requests(), 1u);
}

TEST_F(StreamingTest, StreamUsageChunkOnlyWhenClientAsks) {
  std::string yaml = ChatConfig();
  const std::string access_log = temp().path() + "/access.log";
  const std::string off = "access_log: {path: off}\n";
  const size_t at = yaml.find(off);
  ASSERT_NE(at, std::string::npos) << yaml;
  yaml.replace(at, off.size(), "access_log: {path: " + access_log + "}\n");
  StartProxy(yaml);

  HttpResponse plain = Chat(/*stream=*/true);
  ASSERT_EQ(plain.status, 200) << plain.body << plain.error;
  std::vector<std::string> plain_events = SseEvents(plain.body);
  ASSERT_FALSE(plain_events.empty());
  EXPECT_EQ(plain_events.back(), "[DONE]");
  for (const std::string& event : plain_events) EXPECT_FALSE(HasUsageObject(event)) << event;
  // Tokens are recorded once the attempt ends, which may be just after the client saw the end.
  EXPECT_TRUE(MetricReaches("llmesh_tokens_total", {R"(provider="primary")", R"(type="completion")"}, 3));
  const double prompt_after_plain = Metric("llmesh_tokens_total", {R"(provider="primary")", R"(type="prompt")"});
  EXPECT_GT(prompt_after_plain, 0);

  boost::json::object body = ParseJson(ChatBody(/*stream=*/true)).as_object();
  body["stream_options"] = boost::json::object{{"include_usage", true}};
  HttpResponse with_usage = Request(proxy_port(), beast_http::verb::post, "/v1/chat/completions",
                                    boost::json::serialize(body));
  ASSERT_EQ(with_usage.status, 200) << with_usage.body << with_usage.error;
  std::vector<std::string> events = SseEvents(with_usage.body);
  ASSERT_GE(events.size(), 2u) << with_usage.body;
  EXPECT_EQ(events.back(), "[DONE]");
  int usage_chunks = 0;
  for (const std::string& event : events) usage_chunks += HasUsageObject(event) ? 1 : 0;
  EXPECT_EQ(usage_chunks, 1) << with_usage.body;
  // The usage chunk is the last one before [DONE] and carries no choices.
  const boost::json::value usage_chunk = ParseJson(events[events.size() - 2]);
  ASSERT_TRUE(HasUsageObject(events[events.size() - 2])) << with_usage.body;
  EXPECT_TRUE(usage_chunk.at("choices").as_array().empty());
  EXPECT_EQ(usage_chunk.at("usage").at("completion_tokens").to_number<int>(), 3);
  EXPECT_GT(usage_chunk.at("usage").at("prompt_tokens").to_number<int>(), 0);

  EXPECT_TRUE(MetricReaches("llmesh_tokens_total", {R"(provider="primary")", R"(type="completion")"}, 6));
  EXPECT_GT(Metric("llmesh_tokens_total", {R"(provider="primary")", R"(type="prompt")"}), prompt_after_plain);

  // Both requests are in the access log with their tokens.
  std::vector<boost::json::value> records;
  ASSERT_TRUE(WaitFor(
      [&] {
        std::ifstream file(access_log);
        std::vector<boost::json::value> lines;
        for (std::string line; std::getline(file, line);) {
          if (!line.empty()) lines.push_back(ParseJson(line));
        }
        records = std::move(lines);
        return records.size() >= 2;
      },
      milliseconds(5000)));
  ASSERT_EQ(records.size(), 2u);
  for (const boost::json::value& record : records) {
    EXPECT_EQ(record.at("status").to_number<int>(), 200);
    EXPECT_EQ(record.at("stream").as_bool(), true);
    EXPECT_EQ(record.at("completion_tokens").to_number<int>(), 3);
    EXPECT_GT(record.at("prompt_tokens").to_number<int>(), 0);
  }
}

}  // namespace
}  // namespace llmesh::testing
