// The HTTP/2 core in the client role (as the upstream pool uses it) against HttpServer's h2c:
// request and response bodies larger than the windows, manual flow control, GOAWAY.
#include "common/http2/session.h"

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include "common/http/server.h"
#include "gtest/gtest.h"

namespace llmesh::http2 {
namespace {

namespace bhttp = boost::beast::http;
using std::chrono::milliseconds;
constexpr milliseconds kWait{5000};
constexpr size_t kChunk = 256 << 10;

// Echoes POST bodies; "/chunks" streams 8 chunks of 256 KiB and counts the completed writes.
class ServerHandler : public http::Handler {
 public:
  asio::awaitable<void> Handle(http::Request& request, http::ResponseWriter& writer) override {
    if (request.target() == "/chunks") {
      bhttp::response_header<> head;
      head.result(bhttp::status::ok);
      if (!(co_await writer.StartStream(std::move(head), {})).ok()) co_return;
      const std::string chunk(kChunk, 'c');
      for (int i = 0; i < 8; ++i) {
        if (!(co_await writer.Write(chunk)).ok()) co_return;
        std::lock_guard<std::mutex> lock(mu);
        ++writes_done;
        cv.notify_all();
      }
      (void)co_await writer.Finish();
      co_return;
    }
    http::Response response(bhttp::status::ok, request.version());
    response.body() = request.body();
    (void)co_await writer.Send(std::move(response));
  }
  http::Response Reject(bhttp::status status, std::string_view, std::string_view) override {
    return http::Response(status, 11);
  }

  std::mutex mu;
  std::condition_variable cv;
  int writes_done = 0;
};

// A client session that records one response and consumes only when told to.
class ClientSession final : public Session {
 public:
  ClientSession(Transport& transport, bool auto_consume)
      : Session(Role::kClient, transport, SessionOptions{}), auto_consume_(auto_consume) {}

  std::mutex mu;
  std::condition_variable cv;
  int status = 0;
  size_t received = 0;
  size_t unconsumed = 0;
  bool closed = false;
  uint32_t close_code = 0;
  std::string body;
  bool goaway = false;

 protected:
  int OnHeader(const nghttp2_frame&, std::string_view name, std::string_view value) override {
    if (name == ":status") Update([&] { status = std::stoi(std::string(value)); });
    return 0;
  }
  int OnData(int32_t stream_id, std::string_view data) override {
    Update([&] {
      received += data.size();
      if (body.size() < (4 << 20)) body.append(data);
      if (auto_consume_) {
        Consume(stream_id, data.size());
      } else {
        unconsumed += data.size();
      }
    });
    return 0;
  }
  int OnStreamClose(int32_t, uint32_t error_code) override {
    Update([&] {
      closed = true;
      close_code = error_code;
    });
    return 0;
  }
  void OnGoAway(int32_t, uint32_t) override { Update([&] { goaway = true; }); }

 public:
  // Hands back what was held and consumes from now on. On the session's thread.
  void EnableAutoConsume(int32_t stream_id) {
    std::lock_guard<std::mutex> lock(mu);
    auto_consume_ = true;
    Consume(stream_id, unconsumed);
    unconsumed = 0;
  }

 private:
  template <class F>
  void Update(F f) {
    std::lock_guard<std::mutex> lock(mu);
    f();
    cv.notify_all();
  }
  bool auto_consume_;
};

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    workers_ = std::make_unique<http::IoWorkers>(1);
    http::ServerOptions options;
    options.name = "test";
    server_ = std::make_unique<http::HttpServer>(
        *workers_, options, [this](size_t) -> http::Handler& { return handler_; });
    ASSERT_TRUE(server_->Start().ok());
    workers_->Start();
  }
  void TearDown() override {
    if (client_thread_.joinable()) {
      asio::post(client_context_, [this] { session_->Close(); });
      client_thread_.join();
    }
    server_->Stop();
    EXPECT_TRUE(server_->WaitUntilStopped(kWait));
    workers_->Stop();
    workers_->Join();
  }

  // Connects and runs a client session on its own thread.
  void StartClient(bool auto_consume) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    socket_.set_option(asio::ip::tcp::no_delay(true));
    transport_ = std::make_unique<TcpTransport>(socket_);
    session_ = std::make_unique<ClientSession>(*transport_, auto_consume);
    asio::co_spawn(client_context_, session_->Run(),
                   asio::bind_cancellation_slot(cancel_run_.slot(), [this](std::exception_ptr, absl::Status status) {
                     run_status_.set_value(status);
                   }));
    client_thread_ = std::thread([this] { client_context_.run(); });
  }

  // Submits a request on the client's thread; the body must outlive the stream.
  void Submit(std::string method, std::string path, OutboundBody* body) {
    asio::post(client_context_, [this, method, path, body] {
      const std::string scheme = "http";
      const std::string authority = "127.0.0.1";
      HeaderList headers;
      headers.AddLowercase(":method", method);
      headers.AddLowercase(":scheme", scheme);
      headers.AddLowercase(":authority", authority);
      headers.AddLowercase(":path", path);
      ASSERT_TRUE(session_->SubmitRequest(headers.entries(), body).ok());
    });
  }

  // Starts a client (consuming as data arrives) and completes one small echo request on it.
  void StartClientAndEchoOnce() {
    StartClient(/*auto_consume=*/true);
    OutboundBody body;
    body.pending = "x";
    body.end_stream = true;
    Submit("POST", "/echo", &body);
    ASSERT_TRUE(WaitClient([&] { return session_->closed; }));
  }

  template <class Predicate>
  bool WaitClient(Predicate predicate) {
    std::unique_lock<std::mutex> lock(session_->mu);
    return session_->cv.wait_for(lock, kWait, predicate);
  }

  ServerHandler handler_;
  std::unique_ptr<http::IoWorkers> workers_;
  std::unique_ptr<http::HttpServer> server_;
  asio::io_context client_context_;
  asio::ip::tcp::socket socket_{client_context_};
  std::unique_ptr<TcpTransport> transport_;
  std::unique_ptr<ClientSession> session_;
  std::promise<absl::Status> run_status_;
  asio::cancellation_signal cancel_run_;  // emitted on the client's thread
  std::thread client_thread_;
};

TEST_F(SessionTest, ClientRoundTripsBodiesLargerThanTheWindows) {
  StartClient(/*auto_consume=*/true);
  const std::string payload(3 << 20, 'p');  // three times the 1 MiB stream window
  OutboundBody body;
  body.pending = payload;
  body.end_stream = true;
  Submit("POST", "/echo", &body);
  ASSERT_TRUE(WaitClient([&] { return session_->closed; }));
  EXPECT_EQ(session_->close_code, 0u);
  EXPECT_EQ(session_->status, 200);
  EXPECT_EQ(session_->received, payload.size());
  EXPECT_EQ(session_->body, payload);
}

TEST_F(SessionTest, UnconsumedDataStopsTheSenderAtTheStreamWindow) {
  StartClient(/*auto_consume=*/false);
  Submit("GET", "/chunks", nullptr);
  // 1 MiB window = exactly four 256 KiB writes; the fifth waits for a WINDOW_UPDATE.
  ASSERT_TRUE(WaitClient([&] { return session_->received == 4 * kChunk; }));
  {
    std::unique_lock<std::mutex> lock(handler_.mu);
    ASSERT_TRUE(handler_.cv.wait_for(lock, kWait, [&] { return handler_.writes_done >= 4; }));
    EXPECT_EQ(handler_.writes_done, 4);
  }
  {
    std::lock_guard<std::mutex> lock(session_->mu);
    EXPECT_EQ(session_->received, 4 * kChunk);
  }
  // Consuming reopens the window; the rest follows as the client keeps consuming.
  asio::post(client_context_, [this] { session_->EnableAutoConsume(1); });
  ASSERT_TRUE(WaitClient([&] { return session_->closed; }));
  EXPECT_EQ(session_->close_code, 0u);
  EXPECT_EQ(session_->received, 8 * kChunk);
  std::lock_guard<std::mutex> lock(handler_.mu);
  EXPECT_EQ(handler_.writes_done, 8);
}

TEST_F(SessionTest, ClientSeesGoAwayWhenTheServerDrainsAndRunEndsCleanly) {
  ASSERT_NO_FATAL_FAILURE(StartClientAndEchoOnce());
  std::promise<void> drained;
  server_->Drain(kWait, [&] { drained.set_value(); });
  ASSERT_TRUE(WaitClient([&] { return session_->goaway; }));
  EXPECT_EQ(drained.get_future().wait_for(kWait), std::future_status::ready);
  auto status = run_status_.get_future();
  ASSERT_EQ(status.wait_for(kWait), std::future_status::ready);
  // The server closed after its GOAWAY: the client's read ended.
  const absl::Status result = status.get();
  EXPECT_TRUE(result.ok() || result.code() == absl::StatusCode::kUnavailable) << result;
  client_thread_.join();
}

TEST_F(SessionTest, CancellingRunEndsItCancelled) {
  ASSERT_NO_FATAL_FAILURE(StartClientAndEchoOnce());
  asio::post(client_context_, [this] { cancel_run_.emit(asio::cancellation_type::terminal); });
  auto status = run_status_.get_future();
  ASSERT_EQ(status.wait_for(kWait), std::future_status::ready);
  const absl::Status result = status.get();
  EXPECT_EQ(result.code(), absl::StatusCode::kCancelled) << result;
  client_thread_.join();
}

}  // namespace
}  // namespace llmesh::http2
