#include "common/http/request_parser.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include "gtest/gtest.h"

namespace llmesh::http::internal {
namespace {

namespace bhttp = boost::beast::http;
using boost::beast::error_code;

constexpr size_t kHeaderLimit = 1024;
constexpr uint64_t kBodyLimit = 64;

// Feeds `text` as the connection does when the bytes arrive `step` at a time: each arrival is
// parsed until the parser needs more, and unused bytes stay in its buffer to come again with the
// next ones. Returns the last error.
error_code Feed(RequestParser& parser, std::string_view text, size_t step) {
  std::string buffer;
  error_code ec;
  for (size_t next = 0; next < text.size() && !parser.is_done();) {
    const size_t size = std::min(step, text.size() - next);
    buffer.append(text.substr(next, size));
    next += size;
    for (int round = 0; round < 100 && !buffer.empty() && !parser.is_done(); ++round) {
      const size_t used = parser.put(boost::asio::buffer(buffer.data(), buffer.size()), ec);
      buffer.erase(0, used);
      if (ec == bhttp::error::need_more) break;
      if (ec) return ec;
    }
  }
  return parser.is_done() ? error_code() : ec;
}

error_code ErrorOf(std::string_view text) {
  RequestParser parser(kHeaderLimit, kBodyLimit);
  return Feed(parser, text, text.size());
}

TEST(RequestParserTest, ReadsTheSameRequestWhateverTheBytesArriveIn) {
  const std::string_view requests[] = {
      "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
      "X-Empty:\r\nContent-Length: 11\r\n\r\n{\"a\":\"b c\"}",
      "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
      "X-Empty:\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{\"a\"\r\n7\r\n:\"b c\"}\r\n0\r\nTrailer: t\r\n\r\n",
      "\r\n\r\nPOST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
      "X-Empty:\r\nContent-Length: 11\r\n\r\n{\"a\":\"b c\"}",
  };
  for (const std::string_view text : requests) {
    for (const size_t step : {text.size(), size_t{1}, size_t{7}}) {
      RequestParser parser(kHeaderLimit, kBodyLimit);
      ASSERT_FALSE(Feed(parser, text, step)) << text << " step " << step;
      ASSERT_TRUE(parser.is_done());
      const Request& request = parser.get();
      EXPECT_EQ(request.method(), bhttp::verb::post);
      EXPECT_EQ(request.target(), "/v1/chat/completions?x=1");
      EXPECT_EQ(request.version(), 11u);
      EXPECT_EQ(request[bhttp::field::content_type], "application/json");
      EXPECT_EQ(request["x-empty"], "");
      EXPECT_EQ(request.count(bhttp::field::host), 1u) << "a head read in parts is read once";
      EXPECT_EQ(request.body(), "{\"a\":\"b c\"}");
      EXPECT_TRUE(request.keep_alive());
    }
  }
}

TEST(RequestParserTest, ReadsMethodsVersionsAndBodilessRequests) {
  RequestParser get(kHeaderLimit, kBodyLimit);
  ASSERT_FALSE(Feed(get, "GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 64));
  EXPECT_EQ(get.get().method(), bhttp::verb::get);
  EXPECT_EQ(get.get().version(), 10u);
  EXPECT_TRUE(get.get().keep_alive());
  EXPECT_TRUE(get.get().body().empty());

  RequestParser custom(kHeaderLimit, kBodyLimit);
  ASSERT_FALSE(Feed(custom, "BREW /pot HTTP/1.1\r\nConnection: close\r\n\r\n", 64));
  EXPECT_EQ(custom.get().method(), bhttp::verb::unknown);
  EXPECT_EQ(custom.get().method_string(), "BREW");
  EXPECT_FALSE(custom.get().keep_alive());
}

TEST(RequestParserTest, StopsAtTheHeadWhileTheBodyIsStillToCome) {
  RequestParser parser(kHeaderLimit, kBodyLimit);
  error_code ec;
  const std::string_view head = "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";
  EXPECT_EQ(parser.put(boost::asio::buffer(head.data(), head.size()), ec), head.size());
  EXPECT_FALSE(ec);
  EXPECT_TRUE(parser.is_header_done());
  EXPECT_FALSE(parser.is_done());
  EXPECT_EQ(parser.put(boost::asio::buffer("ab", 2), ec), 2u);
  EXPECT_EQ(ec, bhttp::error::need_more);
  EXPECT_EQ(parser.put(boost::asio::buffer("cdeGET", 6), ec), 3u) << "the next request's bytes stay unread";
  EXPECT_FALSE(ec);
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().body(), "abcde");
}

TEST(RequestParserTest, RefusesWhatBeastRefusesAndRequestsFramedTwoWays) {
  const std::pair<std::string, bhttp::error> cases[] = {
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na", bhttp::error::multiple_content_length},
      {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", bhttp::error::bad_content_length},
      {"POST / HTTP/1.1\r\nContent-Length: 1 1\r\n\r\n", bhttp::error::bad_content_length},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", bhttp::error::bad_transfer_encoding},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", bhttp::error::bad_transfer_encoding},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", bhttp::error::bad_transfer_encoding},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nx\r\n", bhttp::error::bad_chunk},
      {"PO(ST / HTTP/1.1\r\n\r\n", bhttp::error::bad_method},
      {" / HTTP/1.1\r\n\r\n", bhttp::error::bad_method},
      {"GET  HTTP/1.1\r\n\r\n", bhttp::error::bad_target},
      {"GET /\xc3\xa9 HTTP/1.1\r\n\r\n", bhttp::error::bad_target},
      {"GET / HTTP/2.0\r\n\r\n", bhttp::error::bad_version},
      {"GET / HTTP/1.1 \r\n\r\n", bhttp::error::bad_version},
      {"GET /\r\n\r\n", bhttp::error::bad_target},
      {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", bhttp::error::bad_value},
      {"GET / HTTP/1.1\r\nBad Name: a\r\n\r\n", bhttp::error::bad_field},
      {"GET / HTTP/1.1\r\nX: a\x01" "b\r\n\r\n", bhttp::error::bad_line_ending},
      {"GET / HTTP/1.1\nHost: a\n\n", bhttp::error::bad_line_ending},
  };
  for (const auto& [text, error] : cases) EXPECT_EQ(ErrorOf(text), error) << text;
}

TEST(RequestParserTest, EnforcesTheHeaderAndBodyLimits) {
  std::string long_head = "GET / HTTP/1.1\r\nX-Long: ";
  long_head.append(kHeaderLimit, 'a');
  EXPECT_EQ(ErrorOf(long_head), bhttp::error::header_limit);
  // An announced body over the limit is refused as soon as the head is read.
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nContent-Length: 65\r\n\r\n"), bhttp::error::body_limit);
  std::string chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n";
  chunked.append(64, 'a').append("\r\n1\r\nb\r\n0\r\n\r\n");
  EXPECT_EQ(ErrorOf(chunked), bhttp::error::body_limit);
  std::string exact = "POST / HTTP/1.1\r\nContent-Length: 64\r\n\r\n";
  exact.append(64, 'a');
  EXPECT_FALSE(ErrorOf(exact));
}

}  // namespace
}  // namespace llmesh::http::internal
