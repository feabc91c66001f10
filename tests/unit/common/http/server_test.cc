#include "common/http/server.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "gtest/gtest.h"
#include "tests/unit/common/http/raw_connection.h"

namespace llmesh::http {
namespace {

namespace bhttp = boost::beast::http;
using std::chrono::milliseconds;
using testing::RawConnection;

constexpr milliseconds kWait{5000};

// A door a handler waits at until the test opens it. Lives on one worker's context.
class Gate {
 public:
  explicit Gate(asio::io_context& context) : context_(context), timer_(context) {}
  void Open() {
    asio::post(context_, [this] {
      open_ = true;
      timer_.cancel();
    });
  }
  asio::awaitable<void> Wait() {
    while (!open_) {
      timer_.expires_at(std::chrono::steady_clock::time_point::max());
      auto [ec] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec && !open_) co_return;  // the server cancelled the handler
    }
  }

 private:
  asio::io_context& context_;
  asio::steady_timer timer_;
  bool open_ = false;
};

// Routes by target; every route exercises one part of the ResponseWriter contract.
class TestHandler : public Handler {
 public:
  TestHandler(size_t worker, asio::io_context& context) : worker_(worker), gate_(context) {}

  asio::awaitable<void> Handle(Request& request, ResponseWriter& writer) override {
    ++requests_;
    const std::string_view target = request.target();
    if (target == "/stream") {
      bhttp::response_header<> head;
      head.result(bhttp::status::ok);
      head.set(bhttp::field::content_type, "text/event-stream");
      if (!(co_await writer.StartStream(std::move(head), {})).ok()) co_return;
      if (!(co_await writer.Write("one")).ok()) co_return;
      co_await gate_.Wait();
      if (!(co_await writer.Write("two")).ok()) co_return;
      (void)co_await writer.Finish();
      co_return;
    }
    if (target == "/stream-first") {
      bhttp::response_header<> head;
      head.result(bhttp::status::ok);
      if (!(co_await writer.StartStream(std::move(head), "first")).ok()) co_return;
      if (!(co_await writer.Write("second")).ok()) co_return;
      (void)co_await writer.FinishWith("third");
      co_return;
    }
    if (target == "/abort-stream") {
      bhttp::response_header<> head;
      head.result(bhttp::status::ok);
      (void)co_await writer.StartStream(std::move(head), {});
      (void)co_await writer.Write("partial");
      co_return;
    }
    if (target == "/reset") {
      writer.ResetConnection();
      co_return;
    }
    if (target == "/hang") {
      entered_.set_value();
      co_await writer.WaitUntilClientGone();
      client_gone_.set_value();
      co_return;
    }
    if (target == "/wait") {
      entered_.set_value();
      co_await gate_.Wait();
    }
    Response response(bhttp::status::ok, request.version());
    response.set("x-worker", std::to_string(worker_));
    response.body() = request.body();
    (void)co_await writer.Send(std::move(response));
  }

  Response Reject(bhttp::status status, std::string_view reason, std::string_view /*target*/) override {
    Response response(status, 11);
    response.set(bhttp::field::content_type, "text/plain");
    response.body() = "rejected: " + std::string(reason);
    return response;
  }

  Gate& gate() { return gate_; }
  std::future<void> entered() { return entered_.get_future(); }
  std::future<void> client_gone() { return client_gone_.get_future(); }
  int requests() const { return requests_.load(); }

 private:
  size_t worker_;
  Gate gate_;
  std::promise<void> entered_;
  std::promise<void> client_gone_;
  std::atomic<int> requests_{0};
};

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerLimits limits = {}, size_t workers = 1) {
    workers_ = std::make_unique<IoWorkers>(workers);
    for (size_t i = 0; i < workers; ++i) {
      handlers_.push_back(std::make_unique<TestHandler>(i, workers_->context(i)));
    }
    ServerOptions options;
    options.name = "test";
    options.limits = limits;
    server_ = std::make_unique<HttpServer>(*workers_, options,
                                           [this](size_t i) -> Handler& { return *handlers_[i]; });
    ASSERT_TRUE(server_->Start().ok());
    workers_->Start();
  }

  void TearDown() override {
    if (server_) {
      server_->Stop();
      EXPECT_TRUE(server_->WaitUntilStopped(kWait));
    }
    if (workers_) {
      workers_->Stop();
      workers_->Join();
    }
    server_.reset();
    handlers_.clear();
    workers_.reset();
  }

  TestHandler& handler(size_t i = 0) { return *handlers_[i]; }

  std::unique_ptr<IoWorkers> workers_;
  std::vector<std::unique_ptr<TestHandler>> handlers_;
  std::unique_ptr<HttpServer> server_;
};

std::string Post(std::string_view target, std::string_view body) {
  return "POST " + std::string(target) +
         " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

TEST_F(ServerTest, ReusesOneConnectionForKeepAliveRequests) {
  StartServer();
  RawConnection client(server_->port());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.Send(Post("/echo", "hello " + std::to_string(i))));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->result(), bhttp::status::ok);
    EXPECT_EQ(response->body(), "hello " + std::to_string(i));
    EXPECT_TRUE(response->keep_alive());
  }
  EXPECT_EQ(server_->accepted_connections(), 1u);
  EXPECT_EQ(handler().requests(), 3);
}

TEST_F(ServerTest, AnswersPipelinedRequestsInOrder) {
  StartServer();
  RawConnection client(server_->port());
  ASSERT_TRUE(client.Send(Post("/echo", "first") + Post("/echo", "second")));
  auto first = client.ReadResponse();
  auto second = client.ReadResponse();
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->body(), "first");
  EXPECT_EQ(second->body(), "second");
}

TEST_F(ServerTest, ClosesAfterResponseWhenClientAsksForClose) {
  StartServer();
  RawConnection client(server_->port());
  ASSERT_TRUE(client.Send(
      "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_FALSE(response->keep_alive());
  EXPECT_EQ(client.WaitForClose(), RawConnection::CloseKind::kClosed);
}

TEST_F(ServerTest, RejectsOversizedBodyWith413FromHandlerReject) {
  ServerLimits limits;
  limits.max_body_bytes = 1024;
  StartServer(limits);
  RawConnection client(server_->port());
  ASSERT_TRUE(client.Send(Post("/echo", std::string(2048, 'a'))));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result(), bhttp::status::payload_too_large);
  EXPECT_EQ(response->body(), "rejected: request body too large");
  EXPECT_FALSE(response->keep_alive());
  EXPECT_EQ(client.WaitForClose(), RawConnection::CloseKind::kClosed);
  EXPECT_EQ(handler().requests(), 0);
}

TEST_F(ServerTest, RejectsOversizedChunkedBodyWith413) {
  ServerLimits limits;
  limits.max_body_bytes = 16;
  StartServer(limits);
  RawConnection client(server_->port());
  ASSERT_TRUE(
      client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "20\r\n0123456789abcdef0123456789abcdef\r\n0\r\n\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result(), bhttp::status::payload_too_large);
}

TEST_F(ServerTest, RejectsHugeHeadersWith431) {
  ServerLimits limits;
  limits.max_header_bytes = 1024;
  StartServer(limits);
  RawConnection client(server_->port());
  ASSERT_TRUE(client.Send("GET /echo HTTP/1.1\r\nHost: x\r\nx-big: " + std::string(4096, 'b') +
                          "\r\n\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result(), bhttp::status::request_header_fields_too_large);
  EXPECT_EQ(response->body(), "rejected: request header fields too large");
  EXPECT_EQ(handler().requests(), 0);
}

TEST_F(ServerTest, RejectsGarbageWith400) {
  StartServer();
  RawConnection client(server_->port());
  ASSERT_TRUE(client.Send("this is not http at all\r\n\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result(), bhttp::status::bad_request);
  EXPECT_EQ(response->body(), "rejected: malformed HTTP request");
  EXPECT_EQ(client.WaitForClose(), RawConnection::CloseKind::kClosed);
}

TEST_F(ServerTest, ClosesIdleConnectionAfterClientTimeout) {
  ServerLimits limits;
  limits.client_timeout = milliseconds(200);
  StartServer(limits);
  RawConnection client(server_->port());
  ASSERT_TRUE(client.connected());
  EXPECT_EQ(client.WaitForClose(), RawConnection::CloseKind::kClosed);
  EXPECT_EQ(client.Pending(), "");
}

TEST_F(ServerTest, ClosesIdleKeepAliveConnectionAfterClientTimeout) {
  ServerLimits limits;
  limits.client_timeout = milliseconds(200);
  StartServer(limits);
  RawConnection client(server_->port());
  ASSERT_TRUE(client.Send(Post("/echo", "x")));
  ASSERT_TRUE(client.ReadResponse().has_value());
  EXPECT_EQ(client.WaitForClose(), RawConnection::CloseKind::kClosed);
}

TEST_F(ServerTest, Answers408WhenRequestStallsAfterItStarted) {
  ServerLimits limits;
  limits.client_timeout = milliseconds(200);
  StartServer(limits);
  RawConnection client(server_->port());
  ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result(), bhttp::status::request_timeout);
  EXPECT_EQ(response->body(), "rejected: request timeout");
  EXPECT_EQ(handler().requests(), 0);
}

TEST_F(ServerTest, SendsContinueBeforeReadingBodyWhenExpected) {
  StartServer();
  RawConnection client(server_->port());
  ASSERT_TRUE(client.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  auto interim = client.ReadUntil("\r\n\r\n");
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(*interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(client.Send("hello"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result(), bhttp::status::ok);
  EXPECT_EQ(response->body(), "hello");
}

TEST_F(ServerTest, StreamsEachChunkBeforeFinish) {
  StartServer();
  RawConnection client(server_->port());
  ASSERT_TRUE(client.Send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = client.ReadUntil("\r\n\r\n");
  ASSERT_TRUE(head.has_value());
  EXPECT_NE(head->find("HTTP/1.1 200 OK\r\n"), std::string::npos);
  EXPECT_NE(head->find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  // The first chunk arrives while the handler is still blocked before writing the second.
  auto first = client.ReadUntil("one\r\n");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, "3\r\none\r\n");
  EXPECT_EQ(client.Pending(), "");
  handler().gate().Open();
  auto rest = client.ReadUntil("0\r\n\r\n");
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(*rest, "3\r\ntwo\r\n0\r\n\r\n");
  // The connection stays usable after a finished stream.
  ASSERT_TRUE(client.Send(Post("/echo", "after")));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body(), "after");
}

TEST_F(ServerTest, StreamHeadCarriesTheFirstBytesAndTheEndTheLast) {
  StartServer();
  RawConnection client(server_->port());
  ASSERT_TRUE(client.Send("GET /stream-first HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = client.ReadUntil("\r\n\r\n");
  ASSERT_TRUE(head.has_value());
  EXPECT_NE(head->find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  auto body = client.ReadUntil("0\r\n\r\n");
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(*body, "5\r\nfirst\r\n6\r\nsecond\r\n5\r\nthird\r\n0\r\n\r\n");
}

TEST_F(ServerTest, ClosesConnectionWhenHandlerEndsStreamWithoutFinish) {
  StartServer();
  RawConnection client(server_->port());
  ASSERT_TRUE(client.Send("GET /abort-stream HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(client.ReadUntil("partial\r\n").has_value());
  EXPECT_EQ(client.WaitForClose(), RawConnection::CloseKind::kClosed);
  EXPECT_EQ(client.Pending(), "");
}

TEST_F(ServerTest, ResetConnectionSendsTcpReset) {
  StartServer();
  RawConnection client(server_->port());
  ASSERT_TRUE(client.Send("GET /reset HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(client.WaitForClose(), RawConnection::CloseKind::kReset);
}

TEST_F(ServerTest, WaitUntilClientGoneReturnsWhenClientCloses) {
  StartServer();
  auto entered = handler().entered();
  auto gone = handler().client_gone();
  RawConnection client(server_->port());
  ASSERT_TRUE(client.Send("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(entered.wait_for(kWait), std::future_status::ready);
  client.Close();
  EXPECT_EQ(gone.wait_for(kWait), std::future_status::ready);
}

TEST_F(ServerTest, DrainWaitsForInFlightRequestThenCallsBack) {
  StartServer();
  auto entered = handler().entered();
  RawConnection busy(server_->port());
  ASSERT_TRUE(busy.Send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(entered.wait_for(kWait), std::future_status::ready);
  RawConnection idle(server_->port());
  ASSERT_TRUE(idle.Send(Post("/echo", "x")));
  ASSERT_TRUE(idle.ReadResponse().has_value());

  std::promise<void> drained;
  server_->Drain(kWait, [&drained] { drained.set_value(); });
  // The idle keep-alive connection is closed at once; the busy one is not.
  EXPECT_EQ(idle.WaitForClose(), RawConnection::CloseKind::kClosed);
  auto drained_future = drained.get_future();
  EXPECT_EQ(drained_future.wait_for(milliseconds(50)), std::future_status::timeout);
  EXPECT_EQ(server_->active_connections(), 1u);

  handler().gate().Open();
  auto response = busy.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result(), bhttp::status::ok);
  EXPECT_FALSE(response->keep_alive());
  EXPECT_EQ(drained_future.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(server_->active_connections(), 0u);
}

TEST_F(ServerTest, DrainClosesRemainingConnectionsAtDeadline) {
  StartServer();
  auto entered = handler().entered();
  RawConnection busy(server_->port());
  ASSERT_TRUE(busy.Send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(entered.wait_for(kWait), std::future_status::ready);
  std::promise<void> drained;
  server_->Drain(milliseconds(100), [&drained] { drained.set_value(); });
  EXPECT_EQ(drained.get_future().wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(busy.WaitForClose(), RawConnection::CloseKind::kClosed);
}

TEST_F(ServerTest, StopCancelsRunningHandlerAndClosesConnection) {
  StartServer();
  auto entered = handler().entered();
  RawConnection busy(server_->port());
  ASSERT_TRUE(busy.Send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(entered.wait_for(kWait), std::future_status::ready);
  server_->Stop();
  EXPECT_TRUE(server_->WaitUntilStopped(kWait));
  EXPECT_EQ(busy.WaitForClose(), RawConnection::CloseKind::kClosed);
  EXPECT_EQ(server_->active_connections(), 0u);
}

TEST_F(ServerTest, DestroyingStoppedWorkersWithOpenConnectionsIsSafe) {
  StartServer();
  auto entered = handler().entered();
  RawConnection busy(server_->port());
  ASSERT_TRUE(busy.Send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(entered.wait_for(kWait), std::future_status::ready);
  RawConnection idle(server_->port());
  ASSERT_TRUE(idle.Send(Post("/echo", "x")));
  ASSERT_TRUE(idle.ReadResponse().has_value());
  // No Stop: the contexts die with suspended coroutines, after the server object is gone.
  // (The handlers go first only because their gate timers belong to the contexts.)
  workers_->Stop();
  workers_->Join();
  server_.reset();
  handlers_.clear();
  workers_.reset();
  EXPECT_EQ(busy.WaitForClose(), RawConnection::CloseKind::kClosed);
  EXPECT_EQ(idle.WaitForClose(), RawConnection::CloseKind::kClosed);
}

TEST_F(ServerTest, TwoWorkersShareOnePortThroughReusePort) {
  StartServer(ServerLimits{}, 2);
  ASSERT_NE(server_->port(), 0);
  EXPECT_EQ(server_->address(), "127.0.0.1:" + std::to_string(server_->port()));
  // The kernel hashes each connection to one of the two sockets; with 64 connections the
  // chance that one socket gets none is 2^-63.
  std::vector<int> per_worker(2, 0);
  for (int i = 0; i < 64; ++i) {
    RawConnection client(server_->port());
    ASSERT_TRUE(client.Send(Post("/echo", "x")));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.has_value());
    ++per_worker[std::stoi(std::string(response->at("x-worker")))];
  }
  EXPECT_GT(per_worker[0], 0);
  EXPECT_GT(per_worker[1], 0);
}

TEST(HttpServerStartTest, FailsWithUnavailableWhenPortIsTaken) {
  IoWorkers workers(1);
  // A listener without SO_REUSEPORT holds the port, so the server's bind must fail.
  asio::ip::tcp::acceptor blocker(workers.context(0));
  blocker.open(asio::ip::tcp::v4());
  blocker.bind(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  blocker.listen();
  TestHandler handler(0, workers.context(0));
  ServerOptions options;
  options.listen = "127.0.0.1:" + std::to_string(blocker.local_endpoint().port());
  HttpServer server(workers.context(0), options, handler);
  EXPECT_EQ(server.Start().code(), absl::StatusCode::kUnavailable);
}

TEST(HttpServerStartTest, FailsWithInvalidArgumentForBadAddress) {
  IoWorkers workers(1);
  TestHandler handler(0, workers.context(0));
  ServerOptions options;
  options.listen = "nowhere.example:80";
  HttpServer server(workers.context(0), options, handler);
  EXPECT_EQ(server.Start().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace llmesh::http
