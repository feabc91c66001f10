// Test-only: runs an in-process FakeProvider and talks to it over one raw HTTP/1.1 connection.
// Shared by the fake provider's endpoint tests.
//
// Threading: one test thread per fixture.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_provider/fake_provider.h"
#include "tests/unit/common/http/raw_connection.h"

namespace llmesh::fakes::test_support {

inline std::string HttpRequest(std::string_view method, std::string_view target,
                               std::string_view body, std::string_view extra_headers = "") {
  std::string request(method);
  request.append(" ").append(target).append(" HTTP/1.1\r\nHost: fake\r\n");
  request.append(extra_headers);
  if (!body.empty() || method == "POST") {
    request.append("Content-Type: application/json\r\nContent-Length: ")
        .append(std::to_string(body.size()))
        .append("\r\n");
  }
  request.append("\r\n").append(body);
  return request;
}

// Timestamps differ per run; everything else in the fake's output is deterministic.
inline std::string WithoutCreated(const std::string& text) {
  static const std::regex kCreated("\"created\":[0-9]+");
  return std::regex_replace(text, kCreated, "\"created\":0");
}

// 2026-01-01T00:00:00Z: the wall clock of fakes started with PinnedOptions.
inline absl::Time PinnedNow() { return absl::FromUnixSeconds(1767225600); }

inline FakeProviderOptions PinnedOptions(Flavor flavor) {
  FakeProviderOptions options;
  options.flavor = flavor;
  options.now = &PinnedNow;
  return options;
}

class FakeProviderTest : public ::testing::Test {
 protected:
  void StartFake(FakeProviderOptions options = {}) {
    fake_ = std::make_unique<FakeProvider>(std::move(options));
    ASSERT_TRUE(fake_->Start().ok());
    client_ = std::make_unique<http::testing::RawConnection>(fake_->port());
    ASSERT_TRUE(client_->connected());
  }

  http::testing::RawConnection::Response Call(std::string_view method, std::string_view target,
                                              std::string_view body,
                                              std::string_view headers = "") {
    EXPECT_TRUE(client_->Send(HttpRequest(method, target, body, headers)));
    auto response = client_->ReadResponse();
    EXPECT_TRUE(response.has_value());
    return response ? *std::move(response) : http::testing::RawConnection::Response{};
  }

  boost::json::value Stats() { return boost::json::parse(Call("GET", "/_fake/stats", "").body()); }

  std::unique_ptr<FakeProvider> fake_;
  std::unique_ptr<http::testing::RawConnection> client_;
};

}  // namespace llmesh::fakes::test_support
