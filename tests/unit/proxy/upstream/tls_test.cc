// UpstreamPool over TLS: trust anchors, host name checks, SNI and ALPN, reuse and deadlines,
// against a loopback TLS server whose CA is generated per test.
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/cancellation_signal.hpp>

#include "absl/strings/str_cat.h"
#include "proxy/upstream/pool.h"
#include "tests/fakes/test_pki.h"
#include "tests/unit/proxy/upstream/io_test.h"
#include "tests/unit/proxy/upstream/test_server.h"

namespace llmesh::upstream {
namespace {

namespace asio = boost::asio;
using ::llmesh::testing::CertifiedKey;
using ::llmesh::upstream::testing::ServerConnection;
using ::llmesh::upstream::testing::TestServer;
using ::testing::HasSubstr;

class TlsTest : public testing::IoTest {
 protected:
  Endpoint TlsEndpoint(std::string host, uint16_t port, std::string ca_file) {
    return Endpoint{std::move(host), port, true, std::move(ca_file)};
  }

  // Answers every request with "<body> conn=<n>" and remembers what the handshake agreed on.
  TestServer::Handler Echo() {
    return [this](ServerConnection& connection) -> asio::awaitable<void> {
      server_name_ = connection.server_name();
      alpn_ = connection.alpn();
      ServerConnection::Request request;
      // Ends when the client closes the connection.
      for (;;) {
        co_await connection.ReadRequest(request);
        if (!connection.ok()) co_return;
        co_await connection.Write(testing::Response(200, absl::StrCat(request.body(), " conn=", connection.index())));
      }
    };
  }

  // Send + ReadHead + ReadAll; the body, or the first error's status.
  absl::StatusOr<std::string> Fetch(UpstreamPool& pool, const Endpoint& endpoint, std::string body) {
    Request request = Post("/v1/chat/completions", std::move(body));
    absl::StatusOr<std::unique_ptr<Exchange>> exchange = Await(pool.Send(endpoint, request, Soon(), Soon()));
    if (!exchange.ok()) return exchange.status();
    if (absl::Status head = Await((*exchange)->ReadHead(Soon())); !head.ok()) return head;
    return Await((*exchange)->ReadAll(Soon(), 1 << 20));
  }

  ::llmesh::testing::TestPki pki_;
  ::llmesh::testing::TempFile ca_file_{"ca.pem", pki_.ca_pem()};
  CertifiedKey localhost_cert_ = pki_.Issue({"localhost"}, {"127.0.0.1"});
  std::unique_ptr<asio::ssl::context> server_tls_ =
      testing::ServerTlsContext(localhost_cert_.cert_pem, localhost_cert_.key_pem);
  std::string server_name_;
  std::string alpn_;
};

TEST_F(TlsTest, RoundTripsAndReusesConnectionWithTestCa) {
  TestServer server(io_, Echo(), server_tls_.get());
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = TlsEndpoint("localhost", server.port(), ca_file_.path());

  absl::StatusOr<std::string> first = Fetch(pool, endpoint, "one");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "one conn=1");
  absl::StatusOr<std::string> second = Fetch(pool, endpoint, "two");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, "two conn=1");
  EXPECT_EQ(pool.connections_opened(), 1u);
  EXPECT_EQ(server_name_, "localhost");
  EXPECT_EQ(alpn_, "http/1.1");
}

TEST_F(TlsTest, VerifiesIpAddressLiteralAgainstIpSubjectAltName) {
  TestServer server(io_, Echo(), server_tls_.get());
  UpstreamPool pool(io_, {});

  absl::StatusOr<std::string> body = Fetch(pool, TlsEndpoint("127.0.0.1", server.port(), ca_file_.path()), "ip");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "ip conn=1");
  // SNI carries host names only.
  EXPECT_EQ(server_name_, "");
}

TEST_F(TlsTest, CertificateFromUntrustedCaIsUnavailable) {
  TestServer server(io_, Echo(), server_tls_.get());
  UpstreamPool pool(io_, {});

  // No ca_file: the system store, which does not know the test CA.
  absl::StatusOr<std::string> body = Fetch(pool, TlsEndpoint("localhost", server.port(), ""), "x");
  EXPECT_EQ(body.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(body.status().message(), HasSubstr("tls: certificate verify failed for localhost"));
  EXPECT_EQ(pool.connections_opened(), 0u);
}

TEST_F(TlsTest, CertificateForAnotherHostIsUnavailable) {
  const CertifiedKey elsewhere = pki_.Issue({"elsewhere.test"}, {});
  std::unique_ptr<asio::ssl::context> tls = testing::ServerTlsContext(elsewhere.cert_pem, elsewhere.key_pem);
  TestServer server(io_, Echo(), tls.get());
  UpstreamPool pool(io_, {});

  absl::StatusOr<std::string> body = Fetch(pool, TlsEndpoint("localhost", server.port(), ca_file_.path()), "x");
  EXPECT_EQ(body.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(body.status().message(), HasSubstr("certificate verify failed for localhost: hostname mismatch"));
}

TEST_F(TlsTest, UnreadableCaFileIsUnavailable) {
  TestServer server(io_, Echo(), server_tls_.get());
  UpstreamPool pool(io_, {});

  absl::StatusOr<std::string> body =
      Fetch(pool, TlsEndpoint("localhost", server.port(), ca_file_.path() + ".missing"), "x");
  EXPECT_EQ(body.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(body.status().message(), HasSubstr("tls: cannot load"));
}

TEST_F(TlsTest, PlainServerBehindTlsEndpointIsUnavailable) {
  TestServer server(io_, Echo());
  UpstreamPool pool(io_, {});

  absl::StatusOr<std::string> body = Fetch(pool, TlsEndpoint("localhost", server.port(), ca_file_.path()), "x");
  EXPECT_EQ(body.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(body.status().message(), HasSubstr("tls: handshake with localhost:"));
}

TEST_F(TlsTest, ReconnectsWhenServerClosedIdleConnection) {
  TestServer server(
      io_,
      [](ServerConnection& connection) -> asio::awaitable<void> {
        ServerConnection::Request request;
        co_await connection.ReadRequest(request);
        co_await connection.Write(testing::Response(200, absl::StrCat("conn=", connection.index())));
      },
      server_tls_.get());
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = TlsEndpoint("localhost", server.port(), ca_file_.path());

  absl::StatusOr<std::string> first = Fetch(pool, endpoint, "1");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "conn=1");
  RunUntil([&] { return server.finished() == 1; });
  absl::StatusOr<std::string> second = Fetch(pool, endpoint, "2");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, "conn=2");
}

TEST_F(TlsTest, ServerThatNeverAnswersHitsReadDeadline) {
  TestServer server(
      io_,
      [](ServerConnection& connection) -> asio::awaitable<void> {
        ServerConnection::Request request;
        co_await connection.ReadRequest(request);
        co_await connection.WaitForClientClose();
      },
      server_tls_.get());
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = TlsEndpoint("localhost", server.port(), ca_file_.path());
  Request request = Post("/v1/chat/completions", "{}");

  absl::StatusOr<std::unique_ptr<Exchange>> exchange = Await(pool.Send(endpoint, request, Soon(), Soon()));
  ASSERT_TRUE(exchange.ok()) << exchange.status();
  absl::Status head = Await((*exchange)->ReadHead(In(std::chrono::milliseconds(100))));
  EXPECT_EQ(head.code(), absl::StatusCode::kDeadlineExceeded) << head;
}

TEST_F(TlsTest, HandshakeThatNeverCompletesHitsConnectDeadline) {
  // A plain server that accepts and then says nothing: the client's ClientHello goes unanswered.
  TestServer server(
      io_, [](ServerConnection& connection) -> asio::awaitable<void> { co_await connection.WaitForClientClose(); });
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = TlsEndpoint("localhost", server.port(), ca_file_.path());
  Request request = Post("/v1/chat/completions", "{}");

  absl::StatusOr<std::unique_ptr<Exchange>> exchange =
      Await(pool.Send(endpoint, request, In(std::chrono::milliseconds(100)), Soon()));
  EXPECT_EQ(exchange.status().code(), absl::StatusCode::kDeadlineExceeded) << exchange.status();
  EXPECT_EQ(pool.connections_opened(), 0u);
}

TEST_F(TlsTest, CancelledHandshakeIsCancelled) {
  TestServer server(
      io_, [](ServerConnection& connection) -> asio::awaitable<void> { co_await connection.WaitForClientClose(); });
  UpstreamPool pool(io_, {});
  const Endpoint endpoint = TlsEndpoint("localhost", server.port(), ca_file_.path());
  Request request = Post("/v1/chat/completions", "{}");

  asio::cancellation_signal cancel;
  auto exchange = Spawn(pool.Send(endpoint, request, Soon(), Soon()), cancel.slot());
  RunUntil([&] { return server.accepted() == 1; });
  ASSERT_EQ(server.accepted(), 1);
  cancel.emit(asio::cancellation_type::terminal);
  EXPECT_EQ(Wait(exchange).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(pool.connections_opened(), 0u);
}

}  // namespace
}  // namespace llmesh::upstream
