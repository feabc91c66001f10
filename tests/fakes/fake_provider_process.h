// A real llmesh-fake-provider process on a loopback port chosen by the kernel, scripted and
// inspected over its /_fake endpoints (tests/fakes/fake_provider/README.md). It serves plain
// HTTP (HTTP/1.1 and h2c), or TLS (ALPN h2 and http/1.1) when started with a certificate.
//
// Threading: one test thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "tests/fakes/process_harness.h"
#include "tests/fakes/test_http_client.h"

namespace llmesh::testing {

// A certificate for the fake provider to serve (`--tls-cert`, `--tls-key`), valid for
// 127.0.0.1, and the CA file that clients trust it with. Paths to PEM files.
struct FakeProviderTls {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
};

struct FakeProviderProcess {
  // Starts one fake provider named `name` speaking `flavor`'s API (openai, anthropic or
  // gemini); its only model is "fake-model"; over TLS when `tls` is given. Waits for its
  // listener; a failure fails the test and leaves port 0.
  static std::unique_ptr<FakeProviderProcess> Start(std::string_view name,
                                                    std::string_view flavor = "openai",
                                                    const FakeProviderTls* tls = nullptr);

  std::string name;
  std::string flavor;  // the API it speaks: openai, anthropic or gemini
  uint16_t port = 0;
  // The CA that signed its certificate; "" when it serves plain HTTP.
  std::string ca_file;
  std::unique_ptr<ChildProcess> process;

  // The base_url a config gives it (the API's version prefix included, as for the real one):
  // https when it serves TLS (the config then needs `ca_file`).
  std::string BaseUrl() const {
    return (ca_file.empty() ? "http://127.0.0.1:" : "https://127.0.0.1:") + std::to_string(port) +
           (flavor == "gemini" ? "/v1beta" : "/v1");
  }
  // How the test reaches its /_fake endpoints: HTTP/1.1 when plain, h2 over TLS otherwise.
  ClientOptions ControlClient() const {
    return ca_file.empty() ? ClientOptions{} : ClientOptions{HttpProtocol::kHttp2, ca_file};
  }
  // The provider kind that speaks its API.
  std::string Kind() const { return flavor; }
  // POST /_fake/script; fails the test unless it is accepted.
  void Script(std::string_view json) const;
  void Reset() const;
  boost::json::object Stats() const;
  uint64_t Requests() const;
};

}  // namespace llmesh::testing
