// The proxy's upstream hop over HTTP/2 (issue 5: "h2 to the upstream multiplexes (the fake
// provider sees fewer connections than concurrent requests)"), and the same hop with
// `http2: off`, which keeps one HTTP/1.1 connection per request in flight.
#include <chrono>
#include <csignal>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/proxy/proxy_fixture.h"

namespace llmesh::testing {
namespace {

constexpr int kConcurrentRequests = 32;

class UpstreamHttp2Test : public ProxyTest {
 protected:
  void SetUp() override {
    // The providers serve TLS (ALPN h2 and http/1.1); the proxy reaches them by https.
    UseProtocol(HttpProtocol::kHttp2);
    provider_ = &StartProvider("alpha");
  }

  // Sends kConcurrentRequests chat requests at once, each from its own client connection, while
  // the provider holds every answer for a while so that they overlap upstream. Returns how many
  // succeeded; upstream_connections_ is set to the TCP connections the provider accepted meanwhile.
  int ConcurrentChats() {
    provider_->Script(R"({"latency_ms":300})");
    // Each control request (Stats included) is a connection of its own: the second Stats call
    // below adds one.
    const int64_t before = Connections();
    std::vector<int> statuses(kConcurrentRequests, 0);
    std::vector<std::thread> clients;
    for (int i = 0; i < kConcurrentRequests; ++i) {
      clients.emplace_back([this, &statuses, i] { statuses[i] = Chat().status; });
    }
    for (std::thread& client : clients) client.join();
    upstream_connections_ = Connections() - before - 1;
    RecordProperty("upstream_connections", static_cast<int>(upstream_connections_));
    int ok = 0;
    for (int status : statuses) ok += status == 200 ? 1 : 0;
    return ok;
  }

  int64_t Connections() const { return provider_->Stats().at("connections").to_number<int64_t>(); }

  int64_t upstream_connections_ = -1;
  FakeProviderProcess* provider_ = nullptr;
};

TEST_F(UpstreamHttp2Test, ConcurrentRequestsShareMultiplexedConnections) {
  StartProxy(ChatConfig());  // 2 workers, http2: auto
  EXPECT_EQ(ConcurrentChats(), kConcurrentRequests);
  EXPECT_EQ(provider_->Requests(), static_cast<uint64_t>(kConcurrentRequests));
  // One h2 connection per proxy worker that got requests.
  EXPECT_LT(upstream_connections_, kConcurrentRequests);
  EXPECT_GE(upstream_connections_, 1);
  EXPECT_LE(upstream_connections_, 2);
  // Shutting down with the h2 connections still open is clean.
  proxy().Signal(SIGTERM);
  EXPECT_EQ(proxy().WaitExit(std::chrono::seconds(10)), 0) << proxy().Output();
}

TEST_F(UpstreamHttp2Test, Http2OffUsesOneConnectionPerRequestInFlight) {
  StartProxy(ChatConfig({}, {}, "    http2: off\n"));
  EXPECT_EQ(ConcurrentChats(), kConcurrentRequests);
  EXPECT_EQ(upstream_connections_, kConcurrentRequests);
}

}  // namespace
}  // namespace llmesh::testing
