#include "proxy/upstream/endpoint.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/hash/hash_testing.h"

namespace llmesh::upstream {
namespace {

using ::testing::HasSubstr;

TEST(ParseBaseUrlTest, HttpsUrlGetsPort443AndKeepsPath) {
  absl::StatusOr<ParsedBaseUrl> url = ParseBaseUrl("https://api.openai.com/v1", "/etc/ca.pem");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->endpoint, (Endpoint{"api.openai.com", 443, true, "/etc/ca.pem"}));
  EXPECT_EQ(url->base_path, "/v1");
}

TEST(ParseBaseUrlTest, HttpUrlGetsPort80AndEmptyPath) {
  absl::StatusOr<ParsedBaseUrl> url = ParseBaseUrl("http://fake-provider");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->endpoint, (Endpoint{"fake-provider", 80, false, ""}));
  EXPECT_EQ(url->base_path, "");
}

TEST(ParseBaseUrlTest, ExplicitPortAndTrailingSlashes) {
  absl::StatusOr<ParsedBaseUrl> url = ParseBaseUrl("http://127.0.0.1:8080/openai/v1//");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->endpoint, (Endpoint{"127.0.0.1", 8080, false, ""}));
  EXPECT_EQ(url->base_path, "/openai/v1");
}

TEST(ParseBaseUrlTest, LowerCasesHostAndScheme) {
  absl::StatusOr<ParsedBaseUrl> url = ParseBaseUrl("HTTPS://API.Anthropic.COM");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->endpoint.host, "api.anthropic.com");
  EXPECT_TRUE(url->endpoint.tls);
}

TEST(ParseBaseUrlTest, Ipv6LiteralLosesBrackets) {
  absl::StatusOr<ParsedBaseUrl> url = ParseBaseUrl("http://[::1]:4000/v1");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->endpoint.host, "::1");
  EXPECT_EQ(url->endpoint.port, 4000);
  EXPECT_EQ(url->endpoint.HostHeader(), "[::1]:4000");
  EXPECT_EQ(url->endpoint.Authority(), "[::1]:4000");
}

TEST(ParseBaseUrlTest, RejectsWhatCannotBeAnUpstream) {
  const struct {
    const char* url;
    const char* why;
  } kCases[] = {
      {"ftp://example.com", "scheme must be http or https"},
      {"api.openai.com/v1", "not an absolute URL"},
      {"https:///v1", "missing host"},
      {"https://user:secret@example.com", "user info is not allowed"},
      {"https://example.com/v1?api-version=1", "a query is not allowed"},
      {"https://example.com/v1#top", "a fragment is not allowed"},
      {"https://example.com:0", "port must be 1-65535"},
      {"https://example.com:70000", "port must be 1-65535"},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<ParsedBaseUrl> url = ParseBaseUrl(c.url);
    EXPECT_EQ(url.status().code(), absl::StatusCode::kInvalidArgument) << c.url;
    EXPECT_THAT(url.status().message(), HasSubstr(c.why)) << c.url;
    EXPECT_THAT(url.status().message(), HasSubstr(c.url));
  }
}

TEST(EndpointFromUrlTest, ReturnsEndpointAndBasePath) {
  std::string base_path;
  absl::StatusOr<Endpoint> endpoint = EndpointFromUrl("https://example.com:8443/v1beta/", "ca.pem", &base_path);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_EQ(*endpoint, (Endpoint{"example.com", 8443, true, "ca.pem"}));
  EXPECT_EQ(base_path, "/v1beta");
}

TEST(EndpointTest, HostHeaderOmitsDefaultPort) {
  EXPECT_EQ((Endpoint{"api.openai.com", 443, true, ""}).HostHeader(), "api.openai.com");
  EXPECT_EQ((Endpoint{"api.openai.com", 80, false, ""}).HostHeader(), "api.openai.com");
  EXPECT_EQ((Endpoint{"api.openai.com", 443, false, ""}).HostHeader(), "api.openai.com:443");
  EXPECT_EQ((Endpoint{"127.0.0.1", 8080, false, ""}).HostHeader(), "127.0.0.1:8080");
  EXPECT_EQ((Endpoint{"::1", 443, true, ""}).HostHeader(), "[::1]");
}

TEST(EndpointTest, EqualityAndHashCoverEveryField) {
  EXPECT_TRUE(absl::VerifyTypeImplementsAbslHashCorrectly({
      Endpoint{"a.example", 443, true, ""},
      Endpoint{"b.example", 443, true, ""},
      Endpoint{"a.example", 8443, true, ""},
      Endpoint{"a.example", 443, false, ""},
      Endpoint{"a.example", 443, true, "ca.pem"},
      Endpoint{"a.example", 443, true, "", Http2Mode::kOff},
      Endpoint{"a.example", 443, true, "", Http2Mode::kPriorKnowledge},
  }));
  EXPECT_NE((Endpoint{"a.example", 443, true, ""}), (Endpoint{"a.example", 443, true, "ca.pem"}));
  EXPECT_NE((Endpoint{"a.example", 443, true, ""}), (Endpoint{"a.example", 443, true, "", Http2Mode::kOff}));
}

TEST(EndpointTest, MaySpeakHttp2FollowsModeAndScheme) {
  EXPECT_TRUE((Endpoint{"a.example", 443, true, ""}).MaySpeakHttp2());
  EXPECT_FALSE((Endpoint{"a.example", 80, false, ""}).MaySpeakHttp2());
  EXPECT_FALSE((Endpoint{"a.example", 443, true, "", Http2Mode::kOff}).MaySpeakHttp2());
  EXPECT_TRUE((Endpoint{"a.example", 80, false, "", Http2Mode::kPriorKnowledge}).MaySpeakHttp2());
  EXPECT_TRUE((Endpoint{"a.example", 443, true, "", Http2Mode::kPriorKnowledge}).MaySpeakHttp2());
}

}  // namespace
}  // namespace llmesh::upstream
