#include "tests/fakes/fake_provider_process.h"

#include <gtest/gtest.h>

#include <chrono>
#include <utility>
#include <vector>

#include "tests/fakes/test_http_client.h"

namespace llmesh::testing {
namespace {

namespace beast_http = boost::beast::http;
constexpr std::chrono::seconds kStartTimeout{20};

}  // namespace

std::unique_ptr<FakeProviderProcess> FakeProviderProcess::Start(std::string_view name,
                                                                std::string_view flavor,
                                                                const FakeProviderTls* tls) {
  auto fake = std::make_unique<FakeProviderProcess>();
  fake->name = std::string(name);
  fake->flavor = std::string(flavor);
  std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--name", fake->name, "--flavor", fake->flavor};
  if (tls != nullptr) {
    fake->ca_file = tls->ca_file;
    args.insert(args.end(), {"--tls-cert", tls->cert_file, "--tls-key", tls->key_file});
  }
  absl::StatusOr<std::unique_ptr<ChildProcess>> process =
      ChildProcess::Start(BinaryPath("llmesh-fake-provider"), args);
  EXPECT_TRUE(process.ok()) << process.status();
  if (!process.ok()) return fake;
  fake->process = *std::move(process);
  absl::StatusOr<uint16_t> port = fake->process->WaitForListening("fake", kStartTimeout);
  EXPECT_TRUE(port.ok()) << port.status();
  fake->port = port.ok() ? *port : 0;
  return fake;
}

void FakeProviderProcess::Script(std::string_view json) const {
  HttpResponse response = Request(ControlClient(), port, beast_http::verb::post, "/_fake/script", json);
  ASSERT_EQ(response.status, 200) << response.body << response.error;
}

void FakeProviderProcess::Reset() const {
  HttpResponse response = Request(ControlClient(), port, beast_http::verb::post, "/_fake/reset", "{}");
  ASSERT_EQ(response.status, 200) << response.body << response.error;
}

boost::json::object FakeProviderProcess::Stats() const {
  HttpResponse response = Request(ControlClient(), port, beast_http::verb::get, "/_fake/stats");
  EXPECT_EQ(response.status, 200) << response.error;
  boost::json::value stats = ParseJson(response.body);
  return stats.is_object() ? stats.as_object() : boost::json::object();
}

uint64_t FakeProviderProcess::Requests() const {
  return boost::json::value_to<uint64_t>(Stats().at("requests"));
}

}  // namespace llmesh::testing
