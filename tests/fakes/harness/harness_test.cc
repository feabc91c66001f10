// Self-test of the integration-test harness: child processes and the blocking HTTP client,
// the latter against a small in-process server with scripted replies.
#include <signal.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/process_harness.h"
#include "tests/fakes/test_http_client.h"

namespace llmesh::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::unique_ptr<ChildProcess> StartShell(std::string script, EnvVars env = {}) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      ChildProcess::Start("/bin/sh", {"-c", std::move(script)}, std::move(env));
  EXPECT_TRUE(child.ok()) << child.status();
  return child.ok() ? std::move(*child) : nullptr;
}

TEST(ChildProcessTest, ReadsPortFromListeningLineAndKillsChildOnDestruction) {
  auto child = StartShell(
      R"(echo '{"msg":"listening","listener":"x","address":"127.0.0.1:1234"}' >&2; sleep 30)");
  ASSERT_NE(child, nullptr);
  absl::StatusOr<uint16_t> port = child->WaitForListening("x", seconds(10));
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_EQ(*port, 1234);
  EXPECT_FALSE(child->Exited());

  pid_t pid = child->pid();
  auto before = std::chrono::steady_clock::now();
  child.reset();
  // The child's script sleeps for 30s; a destructor that waited for it would take that long.
  EXPECT_LT(std::chrono::steady_clock::now() - before, seconds(10));
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(ChildProcessTest, WaitForListeningIgnoresOtherListenersAndNonJsonLines) {
  auto child =
      StartShell(R"(echo 'plain text'; )"
                 R"(echo '{"msg":"listening","listener":"admin","address":"127.0.0.1:9"}' >&2; )"
                 R"(echo '{"msg":"listening","listener":"proxy","address":"[::1]:40123"}' >&2)");
  ASSERT_NE(child, nullptr);
  absl::StatusOr<uint16_t> port = child->WaitForListening("proxy", seconds(10));
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_EQ(*port, 40123);
}

TEST(ChildProcessTest, WaitForListeningIsUnavailableWhenChildExitsWithoutTheLine) {
  auto child = StartShell("echo starting >&2; exit 1");
  ASSERT_NE(child, nullptr);
  absl::StatusOr<uint16_t> port = child->WaitForListening("proxy", seconds(60));
  EXPECT_EQ(port.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(child->WaitExit(seconds(10)), 1);
}

TEST(ChildProcessTest, CapturesStdoutAndStderrLines) {
  auto child = StartShell("echo to-stdout; echo to-stderr >&2; printf 'no-newline'");
  ASSERT_NE(child, nullptr);
  ASSERT_EQ(child->WaitExit(seconds(10)), 0);
  ASSERT_TRUE(child->WaitForLine([](std::string_view l) { return l == "no-newline"; }, seconds(10))
                  .has_value());
  EXPECT_THAT(child->Lines(),
              ::testing::UnorderedElementsAre("to-stdout", "to-stderr", "no-newline"));
}

TEST(ChildProcessTest, WaitForLineReturnsNulloptOnceOutputEnds) {
  auto child = StartShell("echo only-line");
  ASSERT_NE(child, nullptr);
  auto before = std::chrono::steady_clock::now();
  std::optional<std::string> line =
      child->WaitForLine([](std::string_view l) { return l == "never"; }, seconds(60));
  EXPECT_FALSE(line.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - before, seconds(30));
}

TEST(ChildProcessTest, WaitForLineFromLineSkipsEarlierLines) {
  auto child = StartShell("echo match-1; echo match-2");
  ASSERT_NE(child, nullptr);
  auto is_match = [](std::string_view l) { return l.starts_with("match-"); };
  EXPECT_EQ(child->WaitForLine(is_match, seconds(10)), "match-1");
  EXPECT_EQ(child->WaitForLine(is_match, seconds(10), 1), "match-2");
}

TEST(ChildProcessTest, PassesExtraEnvironmentVariables) {
  auto child = StartShell(R"(echo "value=$LLMESH_HARNESS_TEST_VAR")",
                          {{"LLMESH_HARNESS_TEST_VAR", "forty two"}});
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(
      child->WaitForLine([](std::string_view l) { return l.starts_with("value="); }, seconds(10)),
      "value=forty two");
}

TEST(ChildProcessTest, WaitExitReportsExitCode) {
  auto child = StartShell("exit 3");
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->WaitExit(seconds(10)), 3);
  EXPECT_EQ(child->WaitExit(seconds(10)), 3);
}

TEST(ChildProcessTest, WaitExitReportsKillingSignalAs128PlusSignal) {
  auto child = StartShell("echo ready; exec sleep 30");
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(child->WaitForLine([](std::string_view l) { return l == "ready"; }, seconds(10)));
  EXPECT_EQ(child->WaitExit(milliseconds(50)), std::nullopt);
  child->Signal(SIGTERM);
  EXPECT_EQ(child->WaitExit(seconds(10)), 128 + SIGTERM);
}

TEST(ChildProcessTest, StartFailsForMissingBinary) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      ChildProcess::Start(BinaryPath("no-such-binary-anywhere"), {});
  EXPECT_FALSE(child.ok());
}

TEST(ScopedTempDirTest, CreatesWritableDirectoryAndRemovesIt) {
  std::string path;
  {
    ScopedTempDir dir;
    path = dir.path();
    ASSERT_TRUE(std::filesystem::is_directory(path));
    std::string file = dir.WriteFile("config.yaml", "listen: 127.0.0.1:0\n");
    EXPECT_EQ(file, path + "/config.yaml");
    std::ifstream in(file);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(content, "listen: 127.0.0.1:0\n");
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

// An HTTP/1.1 server on 127.0.0.1:0 with scripted replies, run on its own thread:
//   /echo    200 JSON {method,target,body,authorization,content_type}, keep-alive
//   /close   200 "bye" with Connection: close, then closes
//   /stream  chunked SSE: "data: one\n\n", then (after Release()) "data: two\n\n" and the end
//   /broken  chunked SSE: "data: one\n\n", then closes without the terminating chunk
//   anything unparsable: 400 and close
class ScriptedServer {
 public:
  ScriptedServer() : acceptor_(ioc_, {asio::ip::address_v4::loopback(), 0}), gate_(ioc_) {
    gate_.expires_at(asio::steady_timer::time_point::max());
    asio::co_spawn(ioc_, Accept(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~ScriptedServer() {
    asio::post(ioc_, [this] { ioc_.stop(); });
    thread_.join();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int connections() const { return connections_.load(); }
  void Release() {
    asio::post(ioc_, [this] {
      released_ = true;
      gate_.cancel();
    });
  }

 private:
  asio::awaitable<void> Accept() {
    while (true) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      ++connections_;
      asio::co_spawn(ioc_, Serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> Write(tcp::socket& socket, std::string data) {
    co_await asio::async_write(socket, asio::buffer(data), asio::as_tuple(asio::use_awaitable));
  }

  asio::awaitable<void> Serve(tcp::socket socket) {
    beast::flat_buffer buffer;
    while (true) {
      http::request<http::string_body> req;
      auto [ec, n] =
          co_await http::async_read(socket, buffer, req, asio::as_tuple(asio::use_awaitable));
      if (ec == http::error::end_of_stream) co_return;
      if (ec) {
        co_await Write(
            socket, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        co_return;
      }
      std::string target(req.target());
      const std::string sse_head =
          "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
          "Transfer-Encoding: chunked\r\n\r\n";
      if (target == "/echo") {
        boost::json::object o;
        o["method"] = std::string(req.method_string());
        o["target"] = target;
        o["body"] = req.body();
        o["authorization"] = std::string(req[http::field::authorization]);
        o["content_type"] = std::string(req[http::field::content_type]);
        std::string body = boost::json::serialize(o);
        co_await Write(socket,
                       "HTTP/1.1 200 OK\r\nX-Test: yes\r\nContent-Type: application/json"
                       "\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body);
      } else if (target == "/close") {
        co_await Write(socket,
                       "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbye");
        co_return;
      } else if (target == "/stream") {
        co_await Write(socket, sse_head + "b\r\ndata: one\n\n\r\n");
        while (!released_) co_await gate_.async_wait(asio::as_tuple(asio::use_awaitable));
        co_await Write(socket, "b\r\ndata: two\n\n\r\n0\r\n\r\n");
      } else if (target == "/broken") {
        co_await Write(socket, sse_head + "b\r\ndata: one\n\n\r\n");
        co_return;
      } else {
        co_await Write(socket, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
      }
    }
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer gate_;
  bool released_ = false;  // touched only on ioc_'s thread
  std::atomic<int> connections_{0};
  std::thread thread_;
};

TEST(HttpClientTest, RequestReturnsStatusHeadersAndBody) {
  ScriptedServer server;
  HttpResponse r = Request(server.port(), http::verb::post, "/echo", R"({"a":1})",
                           {{"Authorization", "Bearer k"}});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("x-test"), "yes");
  EXPECT_EQ(r.Header("x-absent"), "");
  EXPECT_TRUE(r.keep_alive);
  boost::json::value body = ParseJson(r.body);
  EXPECT_EQ(body, boost::json::parse(R"({"method":"POST","target":"/echo","body":"{\"a\":1}",)"
                                     R"("authorization":"Bearer k",)"
                                     R"("content_type":"application/json"})"));
}

TEST(HttpClientTest, RequestToClosedPortReportsConnectError) {
  uint16_t port;
  {
    asio::io_context ioc;
    tcp::acceptor probe(ioc, {asio::ip::address_v4::loopback(), 0});
    port = probe.local_endpoint().port();
  }
  HttpResponse r = Request(port, http::verb::get, "/", {}, {}, seconds(5));
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.error, HasSubstr("connect"));
}

TEST(HttpClientTest, ConnectionCarriesSeveralRequestsOnOneSocket) {
  ScriptedServer server;
  HttpConnection connection;
  ASSERT_TRUE(connection.Connect(server.port()).ok());
  uint16_t local = connection.local_port();
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = connection.Send(http::verb::get, "/echo");
    ASSERT_EQ(r.error, "");
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.keep_alive);
  }
  EXPECT_EQ(connection.local_port(), local);
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClientTest, ConnectionSeesServerClose) {
  ScriptedServer server;
  HttpConnection connection;
  ASSERT_TRUE(connection.Connect(server.port()).ok());
  HttpResponse r = connection.Send(http::verb::get, "/close");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "bye");
  EXPECT_FALSE(r.keep_alive);
  EXPECT_TRUE(connection.WaitForPeerClose(seconds(10)));
}

TEST(HttpClientTest, StreamReaderDeliversChunksAsTheyArrive) {
  ScriptedServer server;
  StreamReader reader;
  ASSERT_TRUE(reader.Start(server.port(), http::verb::post, "/stream", "{}").ok())
      << reader.error();
  EXPECT_EQ(reader.status(), 200);
  EXPECT_EQ(reader.headers()[http::field::content_type], "text/event-stream");

  // The server holds the second event until released, so this is all of the first one.
  std::string first;
  for (int i = 0; i < 11 && first.size() < 11; ++i) {
    std::optional<std::string> piece = reader.NextChunk(seconds(10));
    ASSERT_TRUE(piece.has_value()) << reader.error();
    first += *piece;
  }
  EXPECT_EQ(first, "data: one\n\n");
  EXPECT_FALSE(reader.finished());

  server.Release();
  EXPECT_EQ(reader.ReadToEnd(seconds(10)), "data: two\n\n");
  EXPECT_TRUE(reader.ClosedCleanly());
  EXPECT_EQ(reader.error(), "");
  EXPECT_EQ(reader.NextChunk(seconds(1)), std::nullopt);
}

TEST(HttpClientTest, StreamReaderTimesOutWhileServerIsSilent) {
  ScriptedServer server;
  StreamReader reader;
  ASSERT_TRUE(reader.Start(server.port(), http::verb::get, "/stream").ok()) << reader.error();
  EXPECT_EQ(reader.ReadToEnd(milliseconds(300)), "data: one\n\n");
  EXPECT_FALSE(reader.ClosedCleanly());
  EXPECT_EQ(reader.error(), "timeout");
}

TEST(HttpClientTest, StreamReaderReportsTruncatedStreamAsNotClean) {
  ScriptedServer server;
  StreamReader reader;
  ASSERT_TRUE(reader.Start(server.port(), http::verb::get, "/broken").ok()) << reader.error();
  EXPECT_EQ(reader.ReadToEnd(seconds(10)), "data: one\n\n");
  EXPECT_TRUE(reader.finished());
  EXPECT_FALSE(reader.ClosedCleanly());
  EXPECT_NE(reader.error(), "");
}

TEST(HttpClientTest, RawExchangeReturnsServerBytesForMalformedRequest) {
  ScriptedServer server;
  std::string reply = RawExchange(server.port(), "NOT A REQUEST\r\n\r\n", seconds(10));
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 400 Bad Request\r\n"));
}

TEST(SseTest, SplitsEventsAcrossLineEndingsAndSkipsComments) {
  std::string body =
      "data: a\n\n"
      ": keep-alive comment\n\n"
      "event: delta\r\ndata: b\r\ndata: c\r\n\r\n"
      "data: [DONE]\n\n";
  EXPECT_THAT(SseEvents(body), ElementsAre("a", "b\nc", "[DONE]"));
  std::vector<SseEvent> events = ParseSse(body);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].event, "");
  EXPECT_EQ(events[1].event, "delta");
  EXPECT_EQ(events[1].data, "b\nc");
}

TEST(SseTest, KeepsTrailingEventWithoutBlankLine) {
  EXPECT_THAT(SseEvents("data: x\n\ndata: partial"), ElementsAre("x", "partial"));
}

}  // namespace
}  // namespace llmesh::testing
