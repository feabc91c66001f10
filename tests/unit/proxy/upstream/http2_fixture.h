// Fixture for the upstream pool's HTTP/2 tests: a test CA, a certificate for localhost and
// 127.0.0.1, TLS contexts for h2 and HTTP/1.1 test servers, and request helpers.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include "absl/status/statusor.h"
#include "proxy/upstream/pool.h"
#include "tests/fakes/test_pki.h"
#include "tests/unit/proxy/upstream/io_test.h"
#include "tests/unit/proxy/upstream/test_h2_server.h"
#include "tests/unit/proxy/upstream/test_server.h"

namespace llmesh::upstream::testing {

class Http2Test : public IoTest {
 protected:
  Endpoint TlsEndpoint(uint16_t port, Http2Mode http2 = Http2Mode::kAuto) const {
    Endpoint endpoint{"localhost", port, true, ca_file_.path()};
    endpoint.http2 = http2;
    return endpoint;
  }

  // Send + ReadHead + ReadAll; "<status> <body>", or the first error's status.
  static boost::asio::awaitable<absl::StatusOr<std::string>> FetchAsync(UpstreamPool& pool, Endpoint endpoint,
                                                                         std::string target, std::string body) {
    Request request = Post(std::move(target), std::move(body));
    absl::StatusOr<std::unique_ptr<Exchange>> exchange = co_await pool.Send(endpoint, request, Soon(), Soon());
    if (!exchange.ok()) co_return exchange.status();
    if (absl::Status head = co_await (*exchange)->ReadHead(Soon()); !head.ok()) co_return head;
    absl::StatusOr<std::string> read = co_await (*exchange)->ReadAll(Soon(), 16 << 20);
    if (!read.ok()) co_return read.status();
    co_return std::to_string((*exchange)->head().result_int()) + " " + *read;
  }

  absl::StatusOr<std::string> Fetch(UpstreamPool& pool, const Endpoint& endpoint, std::string body) {
    return Await(FetchAsync(pool, endpoint, "/v1/chat/completions", std::move(body)));
  }

  // Sends a request and returns its exchange (the response is not read).
  std::unique_ptr<Exchange> Start(UpstreamPool& pool, const Endpoint& endpoint, std::string target,
                                  std::string body = "{}") {
    Request request = Post(std::move(target), std::move(body));
    absl::StatusOr<std::unique_ptr<Exchange>> exchange = Await(pool.Send(endpoint, request, Soon(), Soon()));
    EXPECT_TRUE(exchange.ok()) << exchange.status();
    return exchange.ok() ? *std::move(exchange) : nullptr;
  }

  // Answers "200 <path>:<body>".
  static TestH2Server::OnRequest Echo() {
    return [](H2Stream& stream) {
      const std::string body = stream.path + ":" + stream.body;
      stream.connection->Respond(stream, 200, {{"content-length", std::to_string(body.size())}});
      stream.connection->Send(stream, body, true);
    };
  }

  llmesh::testing::TestPki pki_;
  llmesh::testing::TempFile ca_file_{"ca.pem", pki_.ca_pem()};
  llmesh::testing::CertifiedKey cert_ = pki_.Issue({"localhost"}, {"127.0.0.1"});
  std::unique_ptr<boost::asio::ssl::context> h2_tls_ = H2ServerTlsContext(cert_.cert_pem, cert_.key_pem);
};

}  // namespace llmesh::upstream::testing
