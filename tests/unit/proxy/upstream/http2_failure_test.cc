// UpstreamPool over HTTP/2 when things go wrong or HTTP/2 is not spoken: GOAWAY mid-flight,
// RST_STREAM from the server, a cancelled exchange, a lost connection, and ALPN falling back to
// HTTP/1.1 (or not offering h2 at all).
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "proxy/upstream/pool.h"
#include "tests/unit/proxy/upstream/http2_fixture.h"

namespace llmesh::upstream {
namespace {

namespace asio = boost::asio;
using ::llmesh::upstream::testing::AlpnPolicy;
using ::llmesh::upstream::testing::H2Stream;
using ::llmesh::upstream::testing::ServerConnection;
using ::llmesh::upstream::testing::TestH2Server;
using ::llmesh::upstream::testing::TestServer;
using ::testing::HasSubstr;

using Http2FailureTest = testing::Http2Test;

// Answers "<path>" with status 200 on `stream`.
void Answer(H2Stream& stream) {
  stream.connection->Respond(stream, 200, {{"content-length", std::to_string(stream.path.size())}});
  stream.connection->Send(stream, stream.path, true);
}

TEST_F(Http2FailureTest, GoAwayFinishesStreamsBelowLastStreamIdAndRefusesTheRest) {
  // Holds every request but "/d" for the test to answer.
  TestH2Server server(
      io_,
      [](H2Stream& stream) {
        if (stream.path == "/d") Answer(stream);
      },
      h2_tls_.get());
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = TlsEndpoint(server.port());

  std::unique_ptr<Exchange> a = Start(pool, endpoint, "/a");
  std::unique_ptr<Exchange> b = Start(pool, endpoint, "/b");
  std::unique_ptr<Exchange> c = Start(pool, endpoint, "/c");
  ASSERT_TRUE(a && b && c);
  RunUntil([&] { return server.requests().size() == 3; });
  ASSERT_EQ(server.requests().size(), 3u);
  H2Stream& stream_a = *server.requests()[0];
  H2Stream& stream_b = *server.requests()[1];
  ASSERT_EQ(stream_b.id, 3);
  stream_a.connection->GoAway(/*last_stream_id=*/3);

  // The stream above last_stream_id was never processed: retryable, like a refused connect.
  absl::Status refused = Await(c->ReadHead(Soon()));
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
  // New requests go to a new connection while the old one finishes its streams.
  absl::StatusOr<std::string> fresh = Await(FetchAsync(pool, endpoint, "/d", ""));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(pool.connections_opened(), 2u);
  EXPECT_EQ(server.accepted(), 2);

  Answer(stream_a);
  Answer(stream_b);
  ASSERT_TRUE(Await(a->ReadHead(Soon())).ok());
  absl::StatusOr<std::string> body_a = Await(a->ReadAll(Soon(), 1024));
  ASSERT_TRUE(body_a.ok()) << body_a.status();
  EXPECT_EQ(*body_a, "/a");
  ASSERT_TRUE(Await(b->ReadHead(Soon())).ok());
  absl::StatusOr<std::string> body_b = Await(b->ReadAll(Soon(), 1024));
  ASSERT_TRUE(body_b.ok()) << body_b.status();
  EXPECT_EQ(*body_b, "/b");
  // With its last stream done, the old connection closes.
  RunUntil([&] { return server.connection(1).ended(); });
  EXPECT_TRUE(server.connection(1).ended());
}

TEST_F(Http2FailureTest, ResetStreamMidBodyAbortsOnlyThatExchange) {
  TestH2Server server(io_, nullptr, h2_tls_.get());
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = TlsEndpoint(server.port());

  std::unique_ptr<Exchange> doomed = Start(pool, endpoint, "/doomed");
  std::unique_ptr<Exchange> fine = Start(pool, endpoint, "/fine");
  ASSERT_TRUE(doomed && fine);
  RunUntil([&] { return server.requests().size() == 2; });
  ASSERT_EQ(server.requests().size(), 2u);
  H2Stream& stream = *server.requests()[0];
  stream.connection->Respond(stream, 200);
  stream.connection->Send(stream, "partial", false);
  ASSERT_TRUE(Await(doomed->ReadHead(Soon())).ok());
  absl::StatusOr<std::string_view> piece = Await(doomed->ReadSome(Soon()));
  ASSERT_TRUE(piece.ok()) << piece.status();
  EXPECT_EQ(*piece, "partial");

  stream.connection->Reset(stream, NGHTTP2_INTERNAL_ERROR);
  piece = Await(doomed->ReadSome(Soon()));
  EXPECT_EQ(piece.status().code(), absl::StatusCode::kAborted) << piece.status();
  EXPECT_THAT(piece.status().message(), HasSubstr("INTERNAL_ERROR"));
  EXPECT_FALSE(doomed->complete());

  Answer(*server.requests()[1]);
  ASSERT_TRUE(Await(fine->ReadHead(Soon())).ok());
  absl::StatusOr<std::string> body = Await(fine->ReadAll(Soon(), 1024));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "/fine");
  EXPECT_EQ(pool.connections_opened(), 1u);
}

TEST_F(Http2FailureTest, RefusedStreamIsRetryable) {
  TestH2Server server(
      io_, [](H2Stream& stream) { stream.connection->Reset(stream, NGHTTP2_REFUSED_STREAM); }, h2_tls_.get());
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = Start(pool, TlsEndpoint(server.port()), "/refused");
  ASSERT_NE(exchange, nullptr);
  absl::Status head = Await(exchange->ReadHead(Soon()));
  EXPECT_EQ(head.code(), absl::StatusCode::kUnavailable) << head;
}

TEST_F(Http2FailureTest, DroppingAnUnfinishedExchangeCancelsItsStreamAndKeepsTheConnection) {
  TestH2Server server(
      io_,
      [](H2Stream& stream) {
        if (stream.path == "/next") return Answer(stream);
        stream.connection->Respond(stream, 200);
        stream.connection->Send(stream, "first piece", false);
      },
      h2_tls_.get());
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = TlsEndpoint(server.port());

  std::unique_ptr<Exchange> exchange = Start(pool, endpoint, "/abandoned");
  ASSERT_NE(exchange, nullptr);
  ASSERT_TRUE(Await(exchange->ReadHead(Soon())).ok());
  exchange.reset();
  RunUntil([&] { return !server.requests().empty() && server.requests()[0]->closed; });
  ASSERT_FALSE(server.requests().empty());
  EXPECT_TRUE(server.requests()[0]->closed);
  EXPECT_EQ(server.requests()[0]->close_code, static_cast<uint32_t>(NGHTTP2_CANCEL));

  absl::StatusOr<std::string> next = Await(FetchAsync(pool, endpoint, "/next", ""));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, "200 /next");
  EXPECT_EQ(pool.connections_opened(), 1u);
}

TEST_F(Http2FailureTest, DeadlineWhileWaitingForTheHeadIsDeadlineExceeded) {
  TestH2Server server(io_, nullptr, h2_tls_.get());
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = Start(pool, TlsEndpoint(server.port()), "/slow");
  ASSERT_NE(exchange, nullptr);
  absl::Status head = Await(exchange->ReadHead(In(std::chrono::milliseconds(50))));
  EXPECT_EQ(head.code(), absl::StatusCode::kDeadlineExceeded) << head;
}

TEST_F(Http2FailureTest, CancellingTheReaderEndsInCancelled) {
  TestH2Server server(io_, nullptr, h2_tls_.get());
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = Start(pool, TlsEndpoint(server.port()), "/never");
  ASSERT_NE(exchange, nullptr);
  asio::cancellation_signal cancel;
  auto head = Spawn(exchange->ReadHead(Soon()), cancel.slot());
  RunUntil([&] { return server.requests().size() == 1; });
  cancel.emit(asio::cancellation_type::terminal);
  EXPECT_EQ(Wait(head).code(), absl::StatusCode::kCancelled);
}

TEST_F(Http2FailureTest, LostConnectionAbortsOpenStreamsAndTheNextRequestReconnects) {
  TestH2Server server(
      io_,
      [](H2Stream& stream) {
        if (stream.path == "/next") Answer(stream);
      },
      h2_tls_.get());
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = TlsEndpoint(server.port());

  std::unique_ptr<Exchange> exchange = Start(pool, endpoint, "/lost");
  ASSERT_NE(exchange, nullptr);
  RunUntil([&] { return server.requests().size() == 1; });
  server.connection(1).Close();
  absl::Status head = Await(exchange->ReadHead(Soon()));
  EXPECT_EQ(head.code(), absl::StatusCode::kAborted) << head;
  EXPECT_EQ(pool.http2_connections(), 0u);

  absl::StatusOr<std::string> next = Await(FetchAsync(pool, endpoint, "/next", ""));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(pool.connections_opened(), 2u);
}

TEST_F(Http2FailureTest, InterimHeadsAreSkipped) {
  TestH2Server server(
      io_,
      [](H2Stream& stream) {
        stream.connection->Interim(stream, 103);
        Answer(stream);
      },
      h2_tls_.get());
  UpstreamPool pool(io_, {});
  absl::StatusOr<std::string> body = Await(FetchAsync(pool, TlsEndpoint(server.port()), "/hinted", ""));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "200 /hinted");
}

TEST_F(Http2FailureTest, ConcurrentFirstRequestsToAnUnreachableEndpointAllFailUnavailable) {
  uint16_t closed_port = 0;
  {
    TestH2Server gone(io_, nullptr);
    closed_port = gone.port();
  }
  UpstreamPool pool(io_, {});
  Endpoint endpoint = Loopback(closed_port);
  endpoint.http2 = Http2Mode::kPriorKnowledge;
  std::vector<std::shared_ptr<Pending<absl::StatusOr<std::string>>>> pending;
  for (int i = 0; i < 4; ++i) pending.push_back(Spawn(FetchAsync(pool, endpoint, "/x", "")));
  for (auto& one : pending) EXPECT_EQ(Wait(one).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(pool.connections_opened(), 0u);
}

TEST_F(Http2FailureTest, WaiterOpensItsOwnConnectionWhenTheOpenerIsCancelled) {
  TestH2Server server(io_, Echo(), h2_tls_.get());
  UpstreamPool pool(io_, {});
  Endpoint endpoint{"127.0.0.1", server.port(), true, ca_file_.path()};

  asio::cancellation_signal cancel;
  auto opener = Spawn(FetchAsync(pool, endpoint, "/opener", ""), cancel.slot());
  auto waiter = Spawn(FetchAsync(pool, endpoint, "/waiter", ""));
  // The opener is in its TLS handshake once the server has accepted its connection.
  RunUntil([&] { return server.accepted() == 1; });
  cancel.emit(asio::cancellation_type::terminal);
  EXPECT_EQ(Wait(opener).status().code(), absl::StatusCode::kCancelled);
  absl::StatusOr<std::string> body = Wait(waiter);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "200 /waiter:");
  EXPECT_EQ(server.accepted(), 2);
}

// An HTTP/1.1 server that answers every request with "<body> conn=<n>".
TestServer::Handler Http11Echo() {
  return [](ServerConnection& connection) -> asio::awaitable<void> {
    ServerConnection::Request request;
    for (;;) {
      co_await connection.ReadRequest(request);
      if (!connection.ok()) co_return;
      co_await connection.Write(testing::Response(200, request.body() + " conn=" + std::to_string(connection.index())));
    }
  };
}

TEST_F(Http2FailureTest, FallsBackToHttp11WhenTheServerPicksItAndRemembers) {
  AlpnPolicy alpn;  // accepts http/1.1 only
  std::unique_ptr<asio::ssl::context> tls = testing::ServerTlsContext(cert_.cert_pem, cert_.key_pem, &alpn);
  TestServer server(io_, Http11Echo(), tls.get());
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = TlsEndpoint(server.port());

  absl::StatusOr<std::string> first = Fetch(pool, endpoint, "one");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "200 one conn=1");
  EXPECT_EQ(alpn.offered, "h2,http/1.1");
  EXPECT_EQ(pool.http2_connections(), 0u);

  // Two at once need a second HTTP/1.1 connection, which no longer offers h2.
  std::unique_ptr<Exchange> held = Start(pool, endpoint, "/held", "two");
  ASSERT_NE(held, nullptr);
  absl::StatusOr<std::string> third = Fetch(pool, endpoint, "three");
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(*third, "200 three conn=2");
  EXPECT_EQ(alpn.offered, "http/1.1");
  EXPECT_EQ(pool.connections_opened(), 2u);
}

TEST_F(Http2FailureTest, ServerWithoutAlpnIsSpokenToInHttp11) {
  AlpnPolicy alpn{.accept = {}};
  std::unique_ptr<asio::ssl::context> tls = testing::ServerTlsContext(cert_.cert_pem, cert_.key_pem, &alpn);
  TestServer server(io_, Http11Echo(), tls.get());
  UpstreamPool pool(io_, {});

  absl::StatusOr<std::string> body = Fetch(pool, TlsEndpoint(server.port()), "plain");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "200 plain conn=1");
  EXPECT_EQ(alpn.offered, "h2,http/1.1");
}

TEST_F(Http2FailureTest, Http2OffOffersOnlyHttp11) {
  AlpnPolicy alpn{.accept = {"h2", "http/1.1"}};
  std::unique_ptr<asio::ssl::context> tls = testing::ServerTlsContext(cert_.cert_pem, cert_.key_pem, &alpn);
  TestServer server(io_, Http11Echo(), tls.get());
  UpstreamPool pool(io_, {});

  absl::StatusOr<std::string> body = Fetch(pool, TlsEndpoint(server.port(), Http2Mode::kOff), "off");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "200 off conn=1");
  EXPECT_EQ(alpn.offered, "http/1.1");
}

TEST_F(Http2FailureTest, PriorKnowledgeOverTlsSpeaksH2) {
  TestH2Server server(io_, Echo(), h2_tls_.get());
  UpstreamPool pool(io_, {});
  absl::StatusOr<std::string> body =
      Fetch(pool, TlsEndpoint(server.port(), Http2Mode::kPriorKnowledge), "pk");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "200 /v1/chat/completions:pk");
}

}  // namespace
}  // namespace llmesh::upstream
