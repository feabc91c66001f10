// UpstreamPool: connecting, keep-alive reuse, stale-connection recovery and idle bookkeeping,
// against a loopback server.
#include "proxy/upstream/pool.h"

#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/field.hpp>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "tests/unit/proxy/upstream/io_test.h"
#include "tests/unit/proxy/upstream/test_server.h"

namespace llmesh::upstream {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using ::llmesh::upstream::testing::ServerConnection;
using ::llmesh::upstream::testing::TestServer;
using ::testing::HasSubstr;

// Answers every request on the connection with a body describing it and the connection.
asio::awaitable<void> Echo(ServerConnection& connection) {
  ServerConnection::Request request;
  // Ends when the client closes the connection.
  for (;;) {
    co_await connection.ReadRequest(request);
    if (!connection.ok()) co_return;
    const std::string body = absl::StrCat(AbslView(request.method_string()), " ", AbslView(request.target()),
                                          " host=", AbslView(request[http::field::host]),
                                          " length=", AbslView(request[http::field::content_length]),
                                          " body=", request.body(), " conn=", connection.index());
    co_await connection.Write(testing::Response(200, body));
  }
}

class UpstreamPoolTest : public testing::IoTest {
 protected:
  // Send + ReadHead + ReadAll; the body, or the first error as "error: <status>".
  std::string Fetch(UpstreamPool& pool, const Endpoint& endpoint, Request request) {
    absl::StatusOr<std::unique_ptr<Exchange>> exchange = Await(pool.Send(endpoint, request, Soon(), Soon()));
    if (!exchange.ok()) return absl::StrCat("error: ", exchange.status().ToString());
    if (absl::Status head = Await((*exchange)->ReadHead(Soon())); !head.ok()) {
      return absl::StrCat("error: ", head.ToString());
    }
    absl::StatusOr<std::string> body = Await((*exchange)->ReadAll(Soon(), 1 << 20));
    if (!body.ok()) return absl::StrCat("error: ", body.status().ToString());
    return *body;
  }
};

TEST_F(UpstreamPoolTest, SendsRequestWithHostAndContentLengthAndReadsResponse) {
  TestServer server(io_, Echo);
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = Loopback(server.port());
  Request request = Post("/v1/chat/completions", "hello");

  absl::StatusOr<std::unique_ptr<Exchange>> exchange = Await(pool.Send(endpoint, request, Soon(), Soon()));
  ASSERT_TRUE(exchange.ok()) << exchange.status();
  ASSERT_TRUE(Await((*exchange)->ReadHead(Soon())).ok());
  EXPECT_EQ((*exchange)->head().result_int(), 200u);
  absl::StatusOr<std::string> body = Await((*exchange)->ReadAll(Soon(), 1024));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body,
            absl::StrCat("POST /v1/chat/completions host=127.0.0.1:", server.port(), " length=5 body=hello conn=1"));
  EXPECT_TRUE((*exchange)->complete());
}

TEST_F(UpstreamPoolTest, ReusesOneConnectionForSequentialRequests) {
  TestServer server(io_, Echo);
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = Loopback(server.port());

  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(Fetch(pool, endpoint, Post("/r", "x")), HasSubstr("conn=1")) << "request " << i;
    EXPECT_EQ(pool.idle_connections(), 1u);
  }
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(pool.connections_opened(), 1u);
}

TEST_F(UpstreamPoolTest, ReconnectsTransparentlyWhenServerClosedIdleConnection) {
  // Each connection serves one request, then the server closes it while it sits idle in the pool
  // (for less than check_idle_after: taken unchecked, the request is sent again on a new one).
  TestServer server(io_, [](ServerConnection& connection) -> asio::awaitable<void> {
    ServerConnection::Request request;
    co_await connection.ReadRequest(request);
    co_await connection.Write(testing::Response(200, absl::StrCat("conn=", connection.index())));
    connection.Close();
  });
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = Loopback(server.port());

  EXPECT_EQ(Fetch(pool, endpoint, Post("/r", "1")), "conn=1");
  RunUntil([&] { return server.finished() == 1; });
  ASSERT_EQ(server.finished(), 1);
  EXPECT_EQ(Fetch(pool, endpoint, Post("/r", "2")), "conn=2");
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_EQ(pool.connections_opened(), 2u);
}

// Checked before reuse (as every connection idle for a while is), the closed connection is
// dropped at once: the request goes out on a fresh one without a resend.
TEST_F(UpstreamPoolTest, IdleConnectionCheckedBeforeReuseIsDroppedWhenThePeerClosedIt) {
  TestServer server(io_, [](ServerConnection& connection) -> asio::awaitable<void> {
    ServerConnection::Request request;
    co_await connection.ReadRequest(request);
    co_await connection.Write(testing::Response(200, absl::StrCat("conn=", connection.index())));
    connection.Close();
  });
  UpstreamPool pool(io_, {.check_idle_after = Duration::zero()});
  const Endpoint endpoint = Loopback(server.port());

  EXPECT_EQ(Fetch(pool, endpoint, Post("/r", "1")), "conn=1");
  RunUntil([&] { return server.finished() == 1; });
  ASSERT_EQ(server.finished(), 1);
  Request second = Post("/r", "2");
  absl::StatusOr<std::unique_ptr<Exchange>> exchange = Await(pool.Send(endpoint, second, Soon(), Soon()));
  ASSERT_TRUE(exchange.ok()) << exchange.status();
  EXPECT_FALSE((*exchange)->reused_connection());
  ASSERT_TRUE(Await((*exchange)->ReadHead(Soon())).ok());
  absl::StatusOr<std::string> body = Await((*exchange)->ReadAll(Soon(), 1024));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "conn=2");
  EXPECT_EQ(pool.connections_opened(), 2u);
}

TEST_F(UpstreamPoolTest, ResendsOnceWhenPooledConnectionDiesBeforeAnswering) {
  // The first connection answers one request, then takes the second and closes without a
  // byte: the race of a server timing out an idle connection just as the client reuses it.
  TestServer server(io_, [](ServerConnection& connection) -> asio::awaitable<void> {
    ServerConnection::Request request;
    // Ends when the client closes the connection.
    for (;;) {
      co_await connection.ReadRequest(request);
      if (!connection.ok()) co_return;
      if (connection.index() == 1 && request.body() == "second") co_return;  // closed unanswered
      co_await connection.Write(testing::Response(200, absl::StrCat(request.body(), " conn=", connection.index())));
    }
  });
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = Loopback(server.port());

  EXPECT_EQ(Fetch(pool, endpoint, Post("/r", "first")), "first conn=1");
  absl::StatusOr<std::unique_ptr<Exchange>> exchange;
  {
    // The exchange keeps what it needs to resend: the caller's request may go away.
    Request second = Post("/r", "second");
    exchange = Await(pool.Send(endpoint, second, Soon(), Soon()));
  }
  ASSERT_TRUE(exchange.ok()) << exchange.status();
  EXPECT_TRUE((*exchange)->reused_connection());
  absl::Status head = Await((*exchange)->ReadHead(Soon()));
  ASSERT_TRUE(head.ok()) << head;
  EXPECT_FALSE((*exchange)->reused_connection());
  absl::StatusOr<std::string> body = Await((*exchange)->ReadAll(Soon(), 1024));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "second conn=2");
  EXPECT_EQ(server.accepted(), 2);
}

TEST_F(UpstreamPoolTest, ResendsAtMostOnce) {
  // Every connection after the first also closes without answering.
  TestServer server(io_, [](ServerConnection& connection) -> asio::awaitable<void> {
    ServerConnection::Request request;
    // Ends when the client closes the connection.
    for (;;) {
      co_await connection.ReadRequest(request);
      if (!connection.ok() || request.body() == "second") co_return;  // closed unanswered
      co_await connection.Write(testing::Response(200, "ok"));
    }
  });
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = Loopback(server.port());

  EXPECT_EQ(Fetch(pool, endpoint, Post("/r", "first")), "ok");
  EXPECT_THAT(Fetch(pool, endpoint, Post("/r", "second")), HasSubstr("error: ABORTED"));
  EXPECT_EQ(server.accepted(), 2);
}

TEST_F(UpstreamPoolTest, FreshConnectionClosedBeforeAnsweringIsAbortedWithoutResend) {
  TestServer server(io_, [](ServerConnection& connection) -> asio::awaitable<void> {
    ServerConnection::Request request;
    co_await connection.ReadRequest(request);
  });
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = Loopback(server.port());
  Request request = Post("/r", "x");

  absl::StatusOr<std::unique_ptr<Exchange>> exchange = Await(pool.Send(endpoint, request, Soon(), Soon()));
  ASSERT_TRUE(exchange.ok()) << exchange.status();
  EXPECT_EQ(Await((*exchange)->ReadHead(Soon())).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(server.accepted(), 1);
}

TEST_F(UpstreamPoolTest, ConnectionRefusedIsUnavailable) {
  // A port that was just free: bound, then released.
  uint16_t port = 0;
  {
    asio::ip::tcp::acceptor probe(io_, {asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = Loopback(port);
  Request request = Post("/r", "x");

  absl::StatusOr<std::unique_ptr<Exchange>> exchange = Await(pool.Send(endpoint, request, Soon(), Soon()));
  ASSERT_FALSE(exchange.ok());
  EXPECT_EQ(exchange.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(exchange.status().message(), HasSubstr("connect: 127.0.0.1:"));
  EXPECT_EQ(pool.connections_opened(), 0u);
}

TEST_F(UpstreamPoolTest, ResolvesHostNameOnceWithinTtl) {
  TestServer server(io_, Echo);
  UpstreamPool pool(io_, {});
  const Endpoint endpoint{"localhost", server.port(), false, ""};
  Request first = Post("/r", "1");
  Request second = Post("/r", "2");

  // Two exchanges at once need two connections, both opened from one lookup.
  absl::StatusOr<std::unique_ptr<Exchange>> a = Await(pool.Send(endpoint, first, Soon(), Soon()));
  absl::StatusOr<std::unique_ptr<Exchange>> b = Await(pool.Send(endpoint, second, Soon(), Soon()));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(pool.connections_opened(), 2u);
  EXPECT_EQ(pool.dns_lookups(), 1u);
  ASSERT_TRUE(Await((*a)->ReadHead(Soon())).ok());
  absl::StatusOr<std::string> body = Await((*a)->ReadAll(Soon(), 1024));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_THAT(*body, HasSubstr(absl::StrCat(" host=localhost:", server.port(), " ")));
}

TEST_F(UpstreamPoolTest, KeepsAtMostMaxIdleConnectionsPerEndpoint) {
  TestServer server(io_, Echo);
  UpstreamPool pool(io_, PoolOptions{.max_idle_per_endpoint = 1});
  const Endpoint endpoint = Loopback(server.port());
  Request first = Post("/r", "1");
  Request second = Post("/r", "2");

  absl::StatusOr<std::unique_ptr<Exchange>> a = Await(pool.Send(endpoint, first, Soon(), Soon()));
  absl::StatusOr<std::unique_ptr<Exchange>> b = Await(pool.Send(endpoint, second, Soon(), Soon()));
  ASSERT_TRUE(a.ok() && b.ok());
  for (std::unique_ptr<Exchange>* exchange : {&*a, &*b}) {
    ASSERT_TRUE(Await((*exchange)->ReadHead(Soon())).ok());
    ASSERT_TRUE(Await((*exchange)->ReadAll(Soon(), 1024)).ok());
  }
  a->reset();
  b->reset();
  EXPECT_EQ(pool.idle_connections(), 1u);
  EXPECT_EQ(server.accepted(), 2);
}

TEST_F(UpstreamPoolTest, ExpiredIdleConnectionIsClosedInsteadOfReused) {
  TestServer server(io_, Echo);
  UpstreamPool pool(io_, PoolOptions{.idle_timeout = std::chrono::seconds(0)});
  const Endpoint endpoint = Loopback(server.port());

  EXPECT_THAT(Fetch(pool, endpoint, Post("/r", "1")), HasSubstr("conn=1"));
  EXPECT_THAT(Fetch(pool, endpoint, Post("/r", "2")), HasSubstr("conn=2"));
  EXPECT_EQ(pool.connections_opened(), 2u);
}

TEST_F(UpstreamPoolTest, CloseIdleClosesPooledConnections) {
  TestServer server(io_, Echo);
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = Loopback(server.port());

  EXPECT_THAT(Fetch(pool, endpoint, Post("/r", "1")), HasSubstr("conn=1"));
  ASSERT_EQ(pool.idle_connections(), 1u);
  pool.CloseIdle();
  EXPECT_EQ(pool.idle_connections(), 0u);
  // The server sees the client go away.
  RunUntil([&] { return server.finished() == 1; });
  EXPECT_EQ(server.finished(), 1);
}

TEST_F(UpstreamPoolTest, ConnectionsToDifferentEndpointsAreNotShared) {
  TestServer first_server(io_, Echo);
  TestServer second_server(io_, Echo);
  UpstreamPool pool(io_, {});

  EXPECT_THAT(Fetch(pool, Loopback(first_server.port()), Post("/r", "1")), HasSubstr("conn=1"));
  EXPECT_THAT(Fetch(pool, Loopback(second_server.port()), Post("/r", "2")), HasSubstr("conn=1"));
  EXPECT_EQ(pool.connections_opened(), 2u);
  EXPECT_EQ(pool.idle_connections(), 2u);
}

}  // namespace
}  // namespace llmesh::upstream
