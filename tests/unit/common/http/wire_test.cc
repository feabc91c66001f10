#include "common/http/wire.h"

#include <array>
#include <string>

#include <boost/beast/http/message.hpp>

#include "gtest/gtest.h"

namespace llmesh::http {
namespace {

namespace bhttp = boost::beast::http;

TEST(WireTest, RequestHeadHasTheRequestLineEveryFieldInOrderAndTheBlankLine) {
  bhttp::request_header<> head;
  head.method(bhttp::verb::post);
  head.target("/v1/chat/completions");
  head.version(11);
  head.set(bhttp::field::host, "api.example.com");
  head.set("authorization", "Bearer k");
  head.set(bhttp::field::content_length, "12");
  std::string out = "kept:";
  AppendRequestHead(head, out);
  EXPECT_EQ(out,
            "kept:POST /v1/chat/completions HTTP/1.1\r\nHost: api.example.com\r\n"
            "authorization: Bearer k\r\nContent-Length: 12\r\n\r\n");
}

TEST(WireTest, ResponseHeadUsesTheStandardReasonUnlessOneIsSet) {
  bhttp::response_header<> head;
  head.result(bhttp::status::too_many_requests);
  head.version(11);
  head.set("retry-after", "2");
  std::string out;
  AppendResponseHead(head, out);
  EXPECT_EQ(out, "HTTP/1.1 429 Too Many Requests\r\nretry-after: 2\r\n\r\n");

  head.result(299);
  head.reason("Custom");
  head.version(10);
  out.clear();
  AppendResponseHead(head, out);
  EXPECT_EQ(out, "HTTP/1.0 299 Custom\r\nretry-after: 2\r\n\r\n");
}

TEST(WireTest, ChunkSizeLinesAreLowerCaseHexWithoutLeadingZeros) {
  std::array<char, kChunkSizeLineBytes> line;
  auto format = [&](size_t size) { return std::string(line.data(), FormatChunkSize(size, line)); };
  EXPECT_EQ(format(0), "0\r\n");
  EXPECT_EQ(format(10), "a\r\n");
  EXPECT_EQ(format(0x1a2b), "1a2b\r\n");
  EXPECT_EQ(format(~size_t{0}), "ffffffffffffffff\r\n");
}

}  // namespace
}  // namespace llmesh::http
