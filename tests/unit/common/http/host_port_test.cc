#include "common/http/host_port.h"

#include "gtest/gtest.h"

namespace llmesh::http {
namespace {

TEST(ParseHostPortTest, ParsesIpv4WithPortZero) {
  auto endpoint = ParseHostPort("127.0.0.1:0");
  ASSERT_TRUE(endpoint.ok());
  EXPECT_EQ(endpoint->address().to_string(), "127.0.0.1");
  EXPECT_EQ(endpoint->port(), 0);
}

TEST(ParseHostPortTest, ParsesBracketedIpv6) {
  auto endpoint = ParseHostPort("[::1]:4000");
  ASSERT_TRUE(endpoint.ok());
  EXPECT_TRUE(endpoint->address().is_v6());
  EXPECT_EQ(endpoint->address().to_string(), "::1");
  EXPECT_EQ(endpoint->port(), 4000);
}

TEST(ParseHostPortTest, ResolvesLocalhostWithoutDns) {
  auto endpoint = ParseHostPort("localhost:80");
  ASSERT_TRUE(endpoint.ok());
  EXPECT_EQ(endpoint->address().to_string(), "127.0.0.1");
  EXPECT_EQ(endpoint->port(), 80);
}

TEST(ParseHostPortTest, RejectsHostNamesOtherThanLocalhost) {
  EXPECT_EQ(ParseHostPort("example.com:80").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseHostPortTest, RejectsBadPorts) {
  for (const char* text : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                           "127.0.0.1:8o", ":4000", "[::1]4000", "::1:4000"}) {
    EXPECT_EQ(ParseHostPort(text).status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

TEST(ParseHostPortTest, NamesTheBadValueInTheError) {
  EXPECT_NE(ParseHostPort("127.0.0.1:99999").status().message().find("127.0.0.1:99999"),
            absl::string_view::npos);
}

TEST(FormatHostPortTest, BracketsIpv6) {
  EXPECT_EQ(FormatHostPort(*ParseHostPort("[::1]:4000")), "[::1]:4000");
  EXPECT_EQ(FormatHostPort(*ParseHostPort("127.0.0.1:5")), "127.0.0.1:5");
}

}  // namespace
}  // namespace llmesh::http
