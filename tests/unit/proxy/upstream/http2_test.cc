// UpstreamPool over HTTP/2: multiplexing, request translation, streamed and flow-controlled
// bodies, the peer's concurrency limit, h2c with prior knowledge and idle connections, against
// a loopback nghttp2 server.
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "proxy/upstream/pool.h"
#include "tests/unit/proxy/upstream/http2_fixture.h"

namespace llmesh::upstream {
namespace {

using ::llmesh::upstream::testing::H2Stream;
using ::llmesh::upstream::testing::TestH2Server;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

using Http2PoolTest = testing::Http2Test;

TEST_F(Http2PoolTest, ConcurrentFirstRequestsShareOneConnection) {
  TestH2Server server(io_, Echo(), h2_tls_.get());
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = TlsEndpoint(server.port());

  constexpr int kRequests = 8;
  std::vector<std::shared_ptr<Pending<absl::StatusOr<std::string>>>> pending;
  for (int i = 0; i < kRequests; ++i) {
    pending.push_back(Spawn(FetchAsync(pool, endpoint, absl::StrCat("/r", i), absl::StrCat("b", i))));
  }
  for (int i = 0; i < kRequests; ++i) {
    absl::StatusOr<std::string> body = Wait(pending[i]);
    ASSERT_TRUE(body.ok()) << body.status();
    EXPECT_EQ(*body, absl::StrCat("200 /r", i, ":b", i));
  }
  EXPECT_EQ(pool.connections_opened(), 1u);
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(pool.http2_connections(), 1u);
  EXPECT_EQ(server.requests().size(), static_cast<size_t>(kRequests));
}

TEST_F(Http2PoolTest, SequentialRequestsReuseTheConnection) {
  TestH2Server server(io_, Echo(), h2_tls_.get());
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = TlsEndpoint(server.port());

  std::unique_ptr<Exchange> first = Start(pool, endpoint, "/one");
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(Await(first->ReadHead(Soon())).ok());
  EXPECT_FALSE(first->reused_connection());
  first.reset();
  std::unique_ptr<Exchange> second = Start(pool, endpoint, "/two");
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(Await(second->ReadHead(Soon())).ok());
  EXPECT_TRUE(second->reused_connection());
  EXPECT_EQ(second->head().version(), 20u);
  EXPECT_EQ(pool.connections_opened(), 1u);
}

TEST_F(Http2PoolTest, TranslatesRequestHeadAndDropsConnectionSpecificFields) {
  TestH2Server server(io_, Echo(), h2_tls_.get());
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = TlsEndpoint(server.port());

  Request request = Post("/v1/chat/completions?x=1", "{\"a\":1}");
  request.set("Host", "api.example.test");
  request.set("Connection", "keep-alive");
  request.set("Keep-Alive", "timeout=5");
  request.set("Proxy-Connection", "keep-alive");
  request.set("Upgrade", "h2c");
  request.set("TE", "gzip");
  request.set("Authorization", "Bearer k");
  request.set("X-Custom-Thing", "Value");
  absl::StatusOr<std::unique_ptr<Exchange>> exchange = Await(pool.Send(endpoint, request, Soon(), Soon()));
  ASSERT_TRUE(exchange.ok()) << exchange.status();
  ASSERT_TRUE(Await((*exchange)->ReadHead(Soon())).ok());

  ASSERT_EQ(server.requests().size(), 1u);
  const H2Stream& seen = *server.requests()[0];
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.scheme, "https");
  EXPECT_EQ(seen.authority, "api.example.test");
  EXPECT_EQ(seen.path, "/v1/chat/completions?x=1");
  EXPECT_EQ(seen.body, "{\"a\":1}");
  EXPECT_THAT(seen.fields, UnorderedElementsAre(Pair("content-length", "7"), Pair("authorization", "Bearer k"),
                                                Pair("x-custom-thing", "Value")));
}

TEST_F(Http2PoolTest, AuthorityDefaultsToTheEndpointsHostHeader) {
  TestH2Server server(io_, Echo(), h2_tls_.get());
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = TlsEndpoint(server.port());

  ASSERT_TRUE(Fetch(pool, endpoint, "{}").ok());
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0]->authority, "localhost:" + std::to_string(server.port()));
}

TEST_F(Http2PoolTest, StreamedBodyArrivesPieceByPiece) {
  TestH2Server server(io_, nullptr, h2_tls_.get());
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = Start(pool, TlsEndpoint(server.port()), "/stream");
  ASSERT_NE(exchange, nullptr);

  auto head = Spawn(exchange->ReadHead(Soon()));
  RunUntil([&] { return server.requests().size() == 1; });
  ASSERT_EQ(server.requests().size(), 1u);
  H2Stream& stream = *server.requests()[0];
  stream.connection->Respond(stream, 200, {{"content-type", "text/event-stream"}});
  ASSERT_TRUE(Wait(head).ok());
  EXPECT_EQ(exchange->head().result_int(), 200u);
  EXPECT_EQ(exchange->head()["content-type"], "text/event-stream");
  EXPECT_FALSE(exchange->complete());

  // Each piece is read before the server has written the next.
  auto first = Spawn(exchange->ReadSome(Soon()));
  stream.connection->Send(stream, "data: one\n\n", false);
  absl::StatusOr<std::string_view> piece = Wait(first);
  ASSERT_TRUE(piece.ok()) << piece.status();
  EXPECT_EQ(*piece, "data: one\n\n");

  auto second = Spawn(exchange->ReadSome(Soon()));
  stream.connection->Send(stream, "data: two\n\n", true);
  piece = Wait(second);
  ASSERT_TRUE(piece.ok()) << piece.status();
  EXPECT_EQ(*piece, "data: two\n\n");
  piece = Await(exchange->ReadSome(Soon()));
  ASSERT_TRUE(piece.ok()) << piece.status();
  EXPECT_THAT(*piece, IsEmpty());
  EXPECT_TRUE(exchange->complete());
}

TEST_F(Http2PoolTest, LargeBodyIsHeldBackByFlowControlUntilRead) {
  constexpr size_t kWindow = 1 << 20;  // the client's SETTINGS_INITIAL_WINDOW_SIZE
  constexpr size_t kBody = 3 * kWindow + 12345;
  std::string body(kBody, 'x');
  for (size_t i = 0; i < kBody; i += 997) body[i] = static_cast<char>('a' + (i / 997) % 26);
  TestH2Server server(
      io_,
      [&body](H2Stream& stream) {
        stream.connection->Respond(stream, 200, {{"content-length", std::to_string(body.size())}});
        stream.connection->Send(stream, body, true);
      },
      h2_tls_.get());
  UpstreamPool pool(io_, {});
  std::unique_ptr<Exchange> exchange = Start(pool, TlsEndpoint(server.port()), "/big");
  ASSERT_NE(exchange, nullptr);
  ASSERT_TRUE(Await(exchange->ReadHead(Soon())).ok());
  ASSERT_EQ(server.requests().size(), 1u);
  const H2Stream& stream = *server.requests()[0];

  // Nothing read yet: the server may send exactly one window.
  RunUntil([&] { return stream.unsent() <= kBody - kWindow; });
  for (int i = 0; i < 50 && io_.poll() > 0; ++i) {
  }
  EXPECT_EQ(stream.unsent(), kBody - kWindow);

  std::string received;
  for (int reads = 0; reads < 1000; ++reads) {
    absl::StatusOr<std::string_view> piece = Await(exchange->ReadSome(Soon()));
    ASSERT_TRUE(piece.ok()) << piece.status();
    if (piece->empty()) break;
    EXPECT_LE(piece->size(), kWindow);
    received.append(*piece);
    // Read slowly: let the server run, then check it never got more than a window ahead.
    for (int i = 0; i < 50 && io_.poll() > 0; ++i) {
    }
    EXPECT_LE(kBody - stream.unsent() - received.size(), kWindow);
  }
  EXPECT_TRUE(exchange->complete());
  EXPECT_EQ(received.size(), body.size());
  EXPECT_TRUE(received == body);
}

// Unread bytes count against their stream's window only: streams whose readers stall, together
// holding more than the connection window (16 MiB), do not hold up another on the connection.
TEST_F(Http2PoolTest, StalledStreamsDoNotHoldUpTheirConnection) {
  constexpr size_t kWindow = 1 << 20;  // the client's SETTINGS_INITIAL_WINDOW_SIZE
  constexpr int kStalled = 20;
  const std::string big(kWindow + 4096, 'b');
  TestH2Server server(
      io_,
      [&big](H2Stream& stream) {
        const std::string body = stream.path == "/small" ? "ok" : big;
        stream.connection->Respond(stream, 200, {{"content-length", std::to_string(body.size())}});
        stream.connection->Send(stream, body, true);
      },
      h2_tls_.get());
  UpstreamPool pool(io_, {});
  std::vector<std::unique_ptr<Exchange>> stalled;
  for (int i = 0; i < kStalled; ++i) {
    stalled.push_back(Start(pool, TlsEndpoint(server.port()), absl::StrCat("/big/", i)));
    ASSERT_NE(stalled.back(), nullptr);
    ASSERT_TRUE(Await(stalled.back()->ReadHead(Soon())).ok());
  }
  ASSERT_EQ(server.requests().size(), static_cast<size_t>(kStalled));
  // Every stalled stream gets its whole window though nobody reads: 20 MiB on one connection.
  RunUntil([&] {
    for (const auto& stream : server.requests()) {
      if (stream->unsent() > big.size() - kWindow) return false;
    }
    return true;
  });
  for (const auto& stream : server.requests()) EXPECT_EQ(stream->unsent(), big.size() - kWindow);

  std::unique_ptr<Exchange> small = Start(pool, TlsEndpoint(server.port()), "/small");
  ASSERT_NE(small, nullptr);
  ASSERT_TRUE(Await(small->ReadHead(Soon())).ok());
  absl::StatusOr<std::string> body = Await(small->ReadAll(Soon(), 1 << 10));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "ok");
  EXPECT_EQ(server.accepted(), 1);
}

TEST_F(Http2PoolTest, LargeRequestBodyGoesOutAsTheServerOpensItsWindows) {
  TestH2Server server(
      io_,
      [](H2Stream& stream) {
        const std::string size = std::to_string(stream.body.size());
        stream.connection->Respond(stream, 200, {{"content-length", std::to_string(size.size())}});
        stream.connection->Send(stream, size, true);
      },
      h2_tls_.get());
  UpstreamPool pool(io_, {});
  // Three times the server's 1 MiB stream window.
  const std::string body(3 << 20, 'p');
  absl::StatusOr<std::string> answer = Await(FetchAsync(pool, TlsEndpoint(server.port()), "/upload", body));
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(*answer, "200 " + std::to_string(body.size()));
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_TRUE(server.requests()[0]->body == body);
}

TEST_F(Http2PoolTest, AbandoningAStalledUploadLeavesTheConnectionUsable) {
  http2::SessionOptions options;
  options.stream_window_bytes = 16 << 10;
  TestH2Server server(io_, Echo(), h2_tls_.get(), options);
  server.set_hold_uploads(true);
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = TlsEndpoint(server.port());

  std::unique_ptr<Exchange> stalled = Start(pool, endpoint, "/stalled", std::string(1 << 20, 'u'));
  ASSERT_NE(stalled, nullptr);
  RunUntil([&] { return !server.streams().empty() && server.streams()[0]->body.size() >= (16u << 10); });
  ASSERT_FALSE(server.streams().empty());
  EXPECT_EQ(server.streams()[0]->body.size(), 16u << 10);
  stalled.reset();
  RunUntil([&] { return server.streams()[0]->closed; });
  EXPECT_EQ(server.streams()[0]->close_code, static_cast<uint32_t>(NGHTTP2_CANCEL));

  server.set_hold_uploads(false);
  absl::StatusOr<std::string> next = Await(FetchAsync(pool, endpoint, "/next", "small"));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, "200 /next:small");
  EXPECT_EQ(pool.connections_opened(), 1u);
}

TEST_F(Http2PoolTest, OpensAnotherConnectionWhenThePeersStreamLimitIsReached) {
  http2::SessionOptions options;
  options.max_concurrent_streams = 2;
  // Answers "/first" at once and holds every other request.
  TestH2Server server(
      io_,
      [](H2Stream& stream) {
        if (stream.path == "/first") Echo()(stream);
      },
      h2_tls_.get(), options);
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = TlsEndpoint(server.port());

  // A whole exchange first, so that the client has the server's SETTINGS.
  ASSERT_TRUE(Await(FetchAsync(pool, endpoint, "/first", "")).ok());
  std::vector<std::unique_ptr<Exchange>> exchanges;
  for (int i = 0; i < 4; ++i) {
    exchanges.push_back(Start(pool, endpoint, "/held"));
    ASSERT_NE(exchanges.back(), nullptr);
  }
  RunUntil([&] { return server.requests().size() == 5; });
  ASSERT_EQ(server.requests().size(), 5u);
  EXPECT_EQ(pool.connections_opened(), 2u);
  EXPECT_EQ(server.accepted(), 2);
  int held_on_first = 0;
  for (const H2Stream* stream : server.requests()) {
    if (stream->path == "/held" && stream->connection->index() == 1) ++held_on_first;
  }
  EXPECT_EQ(held_on_first, 2);
}

TEST_F(Http2PoolTest, PriorKnowledgeSpeaksH2cToPlainEndpoints) {
  TestH2Server server(io_, Echo());
  UpstreamPool pool(io_, {});
  Endpoint endpoint = Loopback(server.port());
  endpoint.http2 = Http2Mode::kPriorKnowledge;

  absl::StatusOr<std::string> first = Fetch(pool, endpoint, "one");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "200 /v1/chat/completions:one");
  absl::StatusOr<std::string> second = Fetch(pool, endpoint, "two");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(server.accepted(), 1);
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[0]->scheme, "http");
}

TEST_F(Http2PoolTest, IdleConnectionSendsGoAwayAfterIdleTimeoutAndNextRequestOpensAnother) {
  TestH2Server server(io_, Echo(), h2_tls_.get());
  UpstreamPool pool(io_, PoolOptions{.idle_timeout = std::chrono::seconds(0)});
  const Endpoint endpoint = TlsEndpoint(server.port());

  ASSERT_TRUE(Fetch(pool, endpoint, "one").ok());
  RunUntil([&] { return server.connection(1).ended(); });
  EXPECT_TRUE(server.connection(1).client_going_away());
  EXPECT_TRUE(server.connection(1).ended());
  EXPECT_EQ(pool.http2_connections(), 0u);

  absl::StatusOr<std::string> again = Fetch(pool, endpoint, "two");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(pool.connections_opened(), 2u);
}

}  // namespace
}  // namespace llmesh::upstream
