// Streaming through the real sidecar: DESIGN.md §3's commit point. Events are held until the
// first content event, then forwarded as they arrive; a failure before it fails over without a
// trace, a failure after it ends the stream with an error event and never with a clean end.
#include <chrono>
#include <fstream>
#include <memory>
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

class StreamingTest : public ProxyProtocolTest {
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

TEST_P(StreamingTest, FirstChunkReachesClientBeforeUpstreamFinishes) {
  StartProxy(ChatConfig());
  primary_->Script(R"({"chunks":3,"chunk_interval_ms":400})");
  StreamReader reader(client());
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

TEST_P(StreamingTest, ResetBeforeFirstContentFailsOverInvisibly) {
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

TEST_P(StreamingTest, ResetAfterContentEndsStreamWithErrorEventNotACleanEnd) {
  StartProxy(ChatConfig());
  // Role chunk, primary-0, primary-1, then a TCP reset.
  primary_->Script(R"({"reset_after_events":3})");
  StreamReader reader(client());
  StartStream(reader, ChatBody(/*stream=*/true));
  ASSERT_EQ(reader.status(), 200);
  EXPECT_EQ(reader.headers()["x-llmesh-provider"], "primary");
  EXPECT_EQ(reader.headers()["x-llmesh-attempts"], "1");

  const std::string body = reader.ReadToEnd();
  EXPECT_TRUE(reader.finished());
  EXPECT_FALSE(reader.ClosedCleanly());
  // The proxy ended the connection (h2: the stream) itself rather than leaving the client to
  // time out.
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

TEST_P(StreamingTest, ErrorEventBeforeContentFailsOver) {
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

TEST_P(StreamingTest, StreamUsageChunkOnlyWhenClientAsks) {
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
  HttpResponse with_usage = ProxyRequest(beast_http::verb::post, "/v1/chat/completions",
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

INSTANTIATE_TEST_SUITE_P(, StreamingTest, kBothProtocols, ProtocolTestName);

// h2 only: the streams of one client connection are independent of each other.
class StreamingHttp2Test : public StreamingTest {};

TEST_P(StreamingHttp2Test, ClientResettingOneStreamLeavesTheConnectionsOtherStreamsServed) {
  StartProxy(ChatConfig());
  // The first request streams for about five seconds; later ones are answered at once.
  primary_->Script(R"({"chunks":50,"chunk_interval_ms":100,"count":1})");
  HttpConnection connection(client());
  ASSERT_TRUE(connection.Connect(proxy_port()).ok());

  StreamReader slow;
  ASSERT_TRUE(slow.Start(connection, beast_http::verb::post, "/v1/chat/completions", ChatBody(/*stream=*/true)).ok())
      << slow.error();
  ASSERT_EQ(slow.status(), 200);
  std::string received;
  for (int i = 0; i < 100 && received.find("primary-0") == std::string::npos; ++i) {
    std::optional<std::string> piece = slow.NextChunk(milliseconds(5000));
    ASSERT_TRUE(piece.has_value()) << slow.error() << "\nreceived: " << received;
    received += *piece;
  }

  // A second stream on the same connection is answered in full while the first is open.
  StreamReader quick;
  ASSERT_TRUE(quick.Start(connection, beast_http::verb::post, "/v1/chat/completions", ChatBody(/*stream=*/true)).ok())
      << quick.error();
  ASSERT_EQ(quick.status(), 200);
  const std::string quick_body = quick.ReadToEnd();
  EXPECT_TRUE(quick.ClosedCleanly()) << quick.error();
  EXPECT_EQ(StreamedText(SseEvents(quick_body)), "primary-0 primary-1 primary-2 ");
  ASSERT_FALSE(slow.finished());
  EXPECT_EQ(primary_->Stats().at("in_flight").to_number<int>(), 1);

  // RST_STREAM on the first: the proxy gives up its upstream request long before it would end.
  slow.Cancel();
  EXPECT_TRUE(WaitFor([&] { return primary_->Stats().at("in_flight").to_number<int>() == 0; }, milliseconds(2000)));

  // The connection keeps serving new streams.
  HttpResponse after = connection.Send(beast_http::verb::post, "/v1/chat/completions", ChatBody(/*stream=*/false));
  EXPECT_EQ(after.status, 200) << after.body << after.error;
  EXPECT_TRUE(connection.is_open());
  EXPECT_EQ(primary_->Requests(), 3u);
}

TEST_P(StreamingHttp2Test, ConcurrentStreamsOnOneConnectionAreServedTogether) {
  StartProxy(ChatConfig());
  // Each stream lasts over a second after its head, long enough to have all of them open.
  primary_->Script(R"({"chunks":3,"chunk_interval_ms":600})");
  HttpConnection connection(client());
  ASSERT_TRUE(connection.Connect(proxy_port()).ok());
  constexpr int kStreams = 16;
  std::vector<std::unique_ptr<StreamReader>> readers;
  for (int i = 0; i < kStreams; ++i) {
    StreamReader& reader = *readers.emplace_back(std::make_unique<StreamReader>());
    ASSERT_TRUE(reader.Start(connection, beast_http::verb::post, "/v1/chat/completions", ChatBody(true)).ok())
        << reader.error();
    ASSERT_EQ(reader.status(), 200);
  }
  // Every stream has its head, so every upstream request is open at once.
  EXPECT_EQ(primary_->Stats().at("in_flight").to_number<int>(), kStreams);
  for (std::unique_ptr<StreamReader>& reader : readers) {
    const std::string body = reader->ReadToEnd();
    EXPECT_TRUE(reader->ClosedCleanly()) << reader->error();
    EXPECT_EQ(StreamedText(SseEvents(body)), "primary-0 primary-1 primary-2 ");
  }
  EXPECT_EQ(primary_->Requests(), static_cast<uint64_t>(kStreams));
}

INSTANTIATE_TEST_SUITE_P(, StreamingHttp2Test, ::testing::Values(HttpProtocol::kHttp2), ProtocolTestName);

}  // namespace
}  // namespace llmesh::testing
