// Exchange: reading heads and bodies (streamed and whole), deadlines, lost connections, limits,
// cancellation, and when a connection may go back to the pool.
#include "proxy/upstream/exchange.h"

#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/cancellation_signal.hpp>

#include "absl/strings/str_cat.h"
#include "proxy/upstream/pool.h"
#include "tests/unit/proxy/upstream/io_test.h"
#include "tests/unit/proxy/upstream/test_server.h"

namespace llmesh::upstream {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using ::llmesh::upstream::testing::Event;
using ::llmesh::upstream::testing::ServerConnection;
using ::llmesh::upstream::testing::TestServer;
using ::testing::HasSubstr;

// Reads one request, writes `raw`, then holds the connection until the client closes it.
TestServer::Handler Answer(std::string raw) {
  return [raw = std::move(raw)](ServerConnection& connection) -> asio::awaitable<void> {
    ServerConnection::Request request;
    co_await connection.ReadRequest(request);
    co_await connection.Write(raw);
    co_await connection.WaitForClientClose();
  };
}

class ExchangeTest : public testing::IoTest {
 protected:
  // Sends a POST to `server` and reads the response head; fails the test if either fails.
  std::unique_ptr<Exchange> Start(UpstreamPool& pool, const TestServer& server) {
    endpoint_ = Loopback(server.port());
    request_ = Post("/v1/chat/completions", "{}");
    absl::StatusOr<std::unique_ptr<Exchange>> exchange = Await(pool.Send(endpoint_, request_, Soon(), Soon()));
    if (!exchange.ok()) {
      ADD_FAILURE() << exchange.status();
      return nullptr;
    }
    return *std::move(exchange);
  }
  std::unique_ptr<Exchange> StartAndReadHead(UpstreamPool& pool, const TestServer& server) {
    std::unique_ptr<Exchange> exchange = Start(pool, server);
    if (exchange == nullptr) return nullptr;
    if (absl::Status head = Await(exchange->ReadHead(Soon())); !head.ok()) {
      ADD_FAILURE() << head;
      return nullptr;
    }
    return exchange;
  }

  Endpoint endpoint_;
  Request request_;
};

TEST_F(ExchangeTest, StreamsChunksAsTheyArrive) {
  Event* send_second = nullptr;
  Event* send_last = nullptr;
  TestServer server(io_, [&](ServerConnection& connection) -> asio::awaitable<void> {
    ServerConnection::Request request;
    co_await connection.ReadRequest(request);
    co_await connection.Write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nalpha\r\n");
    co_await send_second->Wait();
    co_await connection.Write("4\r\nbeta\r\n");
    co_await send_last->Wait();
    co_await connection.Write("0\r\n\r\n");
    co_await connection.WaitForClientClose();
  });
  send_second = &server.NewEvent();
  send_last = &server.NewEvent();
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = StartAndReadHead(pool, server);
  ASSERT_NE(exchange, nullptr);
  EXPECT_EQ(exchange->head().result_int(), 200u);

  absl::StatusOr<std::string_view> piece = Await(exchange->ReadSome(Soon()));
  ASSERT_TRUE(piece.ok()) << piece.status();
  EXPECT_EQ(*piece, "alpha");
  send_second->Set();
  piece = Await(exchange->ReadSome(Soon()));
  ASSERT_TRUE(piece.ok()) << piece.status();
  EXPECT_EQ(*piece, "beta");
  EXPECT_FALSE(exchange->complete());
  send_last->Set();
  piece = Await(exchange->ReadSome(Soon()));
  ASSERT_TRUE(piece.ok()) << piece.status();
  EXPECT_EQ(*piece, "");
  EXPECT_TRUE(exchange->complete());

  exchange.reset();
  EXPECT_EQ(pool.idle_connections(), 1u);
}

TEST_F(ExchangeTest, ServerThatNeverAnswersHitsReadDeadline) {
  TestServer server(io_, [](ServerConnection& connection) -> asio::awaitable<void> {
    ServerConnection::Request request;
    co_await connection.ReadRequest(request);
    co_await connection.WaitForClientClose();
  });
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = Start(pool, server);
  ASSERT_NE(exchange, nullptr);

  absl::Status head = Await(exchange->ReadHead(In(std::chrono::milliseconds(100))));
  EXPECT_EQ(head.code(), absl::StatusCode::kDeadlineExceeded) << head;
  exchange.reset();
  EXPECT_EQ(pool.idle_connections(), 0u);
}

TEST_F(ExchangeTest, StalledBodyHitsReadDeadline) {
  TestServer server(io_, Answer("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"));
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = StartAndReadHead(pool, server);
  ASSERT_NE(exchange, nullptr);

  absl::StatusOr<std::string_view> piece = Await(exchange->ReadSome(Soon()));
  ASSERT_TRUE(piece.ok()) << piece.status();
  EXPECT_EQ(*piece, "abc");
  piece = Await(exchange->ReadSome(In(std::chrono::milliseconds(100))));
  EXPECT_EQ(piece.status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(ExchangeTest, ResetMidBodyIsAborted) {
  Event* reset = nullptr;
  TestServer server(io_, [&](ServerConnection& connection) -> asio::awaitable<void> {
    ServerConnection::Request request;
    co_await connection.ReadRequest(request);
    co_await connection.Write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
    co_await reset->Wait();
    connection.Reset();
  });
  reset = &server.NewEvent();
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = StartAndReadHead(pool, server);
  ASSERT_NE(exchange, nullptr);

  absl::StatusOr<std::string_view> piece = Await(exchange->ReadSome(Soon()));
  ASSERT_TRUE(piece.ok()) << piece.status();
  EXPECT_EQ(*piece, "0123456789");
  reset->Set();
  piece = Await(exchange->ReadSome(Soon()));
  EXPECT_EQ(piece.status().code(), absl::StatusCode::kAborted) << piece.status();
  // Once failed, the exchange stays failed.
  piece = Await(exchange->ReadSome(Soon()));
  EXPECT_EQ(piece.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ExchangeTest, EofBeforeBodyCompletesIsAborted) {
  TestServer server(io_, [](ServerConnection& connection) -> asio::awaitable<void> {
    ServerConnection::Request request;
    co_await connection.ReadRequest(request);
    co_await connection.Write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
    connection.Close();
  });
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = StartAndReadHead(pool, server);
  ASSERT_NE(exchange, nullptr);

  absl::StatusOr<std::string> body = Await(exchange->ReadAll(Soon(), 1024));
  EXPECT_EQ(body.status().code(), absl::StatusCode::kAborted) << body.status();
}

TEST_F(ExchangeTest, BodyLongerThanLimitIsResourceExhausted) {
  TestServer server(io_, Answer(testing::Response(200, std::string(1000, 'x'))));
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = StartAndReadHead(pool, server);
  ASSERT_NE(exchange, nullptr);

  absl::StatusOr<std::string> body = Await(exchange->ReadAll(Soon(), 100));
  EXPECT_EQ(body.status().code(), absl::StatusCode::kResourceExhausted) << body.status();
  exchange.reset();
  EXPECT_EQ(pool.idle_connections(), 0u);
}

TEST_F(ExchangeTest, ChunkedBodyLongerThanLimitIsResourceExhausted) {
  const std::string chunk = absl::StrCat("64\r\n", std::string(100, 'x'), "\r\n");
  TestServer server(io_, Answer(absl::StrCat("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunk, chunk,
                                             chunk, "0\r\n\r\n")));
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = StartAndReadHead(pool, server);
  ASSERT_NE(exchange, nullptr);

  absl::StatusOr<std::string> body = Await(exchange->ReadAll(Soon(), 250));
  EXPECT_EQ(body.status().code(), absl::StatusCode::kResourceExhausted) << body.status();
}

TEST_F(ExchangeTest, BodyExactlyAtLimitIsRead) {
  TestServer server(io_, Answer(testing::Response(200, std::string(100, 'x'))));
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = StartAndReadHead(pool, server);
  ASSERT_NE(exchange, nullptr);

  absl::StatusOr<std::string> body = Await(exchange->ReadAll(Soon(), 100));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, std::string(100, 'x'));
}

TEST_F(ExchangeTest, CancelledReadClosesConnection) {
  bool request_seen = false;
  TestServer server(io_, [&](ServerConnection& connection) -> asio::awaitable<void> {
    ServerConnection::Request request;
    co_await connection.ReadRequest(request);
    request_seen = connection.ok();
    co_await connection.WaitForClientClose();
  });
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = Start(pool, server);
  ASSERT_NE(exchange, nullptr);

  asio::cancellation_signal cancel;
  auto head = Spawn(exchange->ReadHead(Soon()), cancel.slot());
  RunUntil([&] { return request_seen; });
  ASSERT_TRUE(request_seen);
  cancel.emit(asio::cancellation_type::terminal);
  EXPECT_EQ(Wait(head).code(), absl::StatusCode::kCancelled);
  exchange.reset();
  EXPECT_EQ(pool.idle_connections(), 0u);
  RunUntil([&] { return server.finished() == 1; });
  EXPECT_EQ(server.finished(), 1);
}

TEST_F(ExchangeTest, PartlyReadResponseClosesConnection) {
  TestServer server(io_, Answer(testing::Response(200, "hello")));
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = StartAndReadHead(pool, server);
  ASSERT_NE(exchange, nullptr);

  exchange.reset();
  EXPECT_EQ(pool.idle_connections(), 0u);
}

TEST_F(ExchangeTest, ConnectionCloseResponseIsNotPooled) {
  TestServer server(io_, Answer(testing::Response(200, "bye", "Connection: close\r\n")));
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = StartAndReadHead(pool, server);
  ASSERT_NE(exchange, nullptr);

  absl::StatusOr<std::string> body = Await(exchange->ReadAll(Soon(), 1024));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "bye");
  exchange.reset();
  EXPECT_EQ(pool.idle_connections(), 0u);
}

TEST_F(ExchangeTest, BodyDelimitedByCloseIsReadToEof) {
  TestServer server(io_, [](ServerConnection& connection) -> asio::awaitable<void> {
    ServerConnection::Request request;
    co_await connection.ReadRequest(request);
    co_await connection.Write("HTTP/1.1 200 OK\r\n\r\nuntil eof");
    connection.Close();
  });
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = StartAndReadHead(pool, server);
  ASSERT_NE(exchange, nullptr);

  absl::StatusOr<std::string> body = Await(exchange->ReadAll(Soon(), 1024));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "until eof");
  exchange.reset();
  EXPECT_EQ(pool.idle_connections(), 0u);
}

TEST_F(ExchangeTest, MalformedResponseIsInternal) {
  TestServer server(io_, Answer("SMTP ready\r\n\r\n"));
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = Start(pool, server);
  ASSERT_NE(exchange, nullptr);

  absl::Status head = Await(exchange->ReadHead(Soon()));
  EXPECT_EQ(head.code(), absl::StatusCode::kInternal) << head;
  EXPECT_THAT(head.message(), HasSubstr("malformed HTTP response"));
}

TEST_F(ExchangeTest, SkipsInterimResponses) {
  TestServer server(io_, Answer(absl::StrCat("HTTP/1.1 100 Continue\r\n\r\n", testing::Response(201, "made"))));
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = StartAndReadHead(pool, server);
  ASSERT_NE(exchange, nullptr);

  EXPECT_EQ(exchange->head().result_int(), 201u);
  absl::StatusOr<std::string> body = Await(exchange->ReadAll(Soon(), 1024));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "made");
  exchange.reset();
  EXPECT_EQ(pool.idle_connections(), 1u);
}

TEST_F(ExchangeTest, ResponseToHeadRequestHasNoBody) {
  TestServer server(io_, Answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"));
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = Loopback(server.port());
  Request request{http::verb::head, "/v1/models", 11};
  absl::StatusOr<std::unique_ptr<Exchange>> exchange = Await(pool.Send(endpoint, request, Soon(), Soon()));
  ASSERT_TRUE(exchange.ok()) << exchange.status();
  ASSERT_TRUE(Await((*exchange)->ReadHead(Soon())).ok());

  EXPECT_TRUE((*exchange)->complete());
  absl::StatusOr<std::string_view> piece = Await((*exchange)->ReadSome(Soon()));
  ASSERT_TRUE(piece.ok()) << piece.status();
  EXPECT_EQ(*piece, "");
  exchange->reset();
  EXPECT_EQ(pool.idle_connections(), 1u);
}

TEST_F(ExchangeTest, ReadingBodyBeforeHeadIsFailedPrecondition) {
  TestServer server(io_, Answer(testing::Response(200, "x")));
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = Start(pool, server);
  ASSERT_NE(exchange, nullptr);

  EXPECT_EQ(Await(exchange->ReadSome(Soon())).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace llmesh::upstream
