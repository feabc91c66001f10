// A test fixture that runs real llmesh-fake-provider processes and a real llmesh-proxy on
// loopback ports chosen by the kernel, and talks to them over HTTP.
//
// Providers are started first (each learns its port from its "listening" log line); the proxy
// config is then written with their addresses. Everything is killed when the fixture ends.
//
// Protocols: by default the client speaks HTTP/1.1 to the proxy and the providers serve plain
// HTTP. With UseProtocol(kHttp2) (ProxyProtocolTest does it from its parameter) the client
// speaks h2c to the proxy and the providers serve TLS with a certificate from a per-test CA,
// configured as https base URLs with that `ca_file`, so that the proxy's upstream hop can
// negotiate h2 by ALPN too. The admin listener is always reached over HTTP/1.1.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/fakes/fake_provider_process.h"
#include "tests/fakes/process_harness.h"
#include "tests/fakes/test_http_client.h"
#include "tests/fakes/test_pki.h"

namespace llmesh::testing {

class ProxyTest : public ::testing::Test {
 protected:
  // Picks the protocol of the client and of the providers (see the file comment). Call before
  // StartProvider.
  void UseProtocol(HttpProtocol protocol);
  HttpProtocol protocol() const { return protocol_; }
  // How the test reaches the proxy's data listener.
  ClientOptions client() const { return ClientOptions{protocol_, ""}; }

  // Starts one fake provider named `name` speaking `flavor`'s API (its only model is
  // "fake-model").
  FakeProviderProcess& StartProvider(std::string_view name, std::string_view flavor = "openai");

  // A route `chat` over the started providers, one priority tier each in start order, with
  // `route_extra` appended to the route (e.g. "    timeouts: {first_byte: 300ms}\n") and
  // `top_extra` at the top level. Provider keys are "<name>-key" from env.
  std::string ChatConfig(std::string_view route_extra = {}, std::string_view top_extra = {},
                         std::string_view provider_extra = {}) const;

  // Writes `yaml` and starts llmesh-proxy on it; waits for both listeners.
  void StartProxy(const std::string& yaml, std::vector<std::string> extra_args = {});

  // One request to the proxy's data listener over client()'s protocol.
  HttpResponse ProxyRequest(boost::beast::http::verb method, std::string_view target, std::string_view body = {},
                            const HttpHeaders& headers = {}) const;
  // POST /v1/chat/completions with model "chat" (or `model`) and one user message.
  HttpResponse Chat(bool stream = false, std::string_view model = "chat",
                    const HttpHeaders& headers = {}) const;
  std::string ChatBody(bool stream, std::string_view model = "chat") const;

  HttpResponse Admin(std::string_view path) const;
  // Sum of every sample of `family` whose labels contain all of `labels` (e.g. `reason="x"`).
  double Metric(std::string_view family, const std::vector<std::string>& labels = {}) const;
  // Waits until Metric(family, labels) equals `value`: request-level series are recorded just
  // after the response is written, so a client can see the response first.
  bool MetricReaches(std::string_view family, const std::vector<std::string>& labels, double value) const;
  // The /providers entry for a provider.
  boost::json::object ProviderHealth(std::string_view provider) const;

  uint16_t proxy_port() const { return proxy_port_; }
  uint16_t admin_port() const { return admin_port_; }
  ChildProcess& proxy() { return *proxy_; }
  const ScopedTempDir& temp() const { return temp_; }
  EnvVars ProviderKeys() const;

  std::vector<std::unique_ptr<FakeProviderProcess>> providers_;

 private:
  HttpProtocol protocol_ = HttpProtocol::kHttp1;
  // The providers' certificate under kHttp2.
  std::optional<FakeProviderTls> provider_tls_;
  ScopedTempDir temp_;
  std::unique_ptr<ChildProcess> proxy_;
  uint16_t proxy_port_ = 0;
  uint16_t admin_port_ = 0;
};

// A ProxyTest run once per protocol: TEST_P, instantiated with
//   INSTANTIATE_TEST_SUITE_P(, SuiteTest, kBothProtocols, ProtocolTestName);
// so that test names end in /Http1 and /Http2.
class ProxyProtocolTest : public ProxyTest, public ::testing::WithParamInterface<HttpProtocol> {
 protected:
  ProxyProtocolTest() { UseProtocol(GetParam()); }
};

inline const auto kBothProtocols = ::testing::Values(HttpProtocol::kHttp1, HttpProtocol::kHttp2);
std::string ProtocolTestName(const ::testing::TestParamInfo<HttpProtocol>& info);


}  // namespace llmesh::testing
