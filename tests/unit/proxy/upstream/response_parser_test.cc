#include "proxy/upstream/response_parser.h"

#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include "gtest/gtest.h"

namespace llmesh::upstream::internal {
namespace {

namespace http = boost::beast::http;

// Feeds `text` to `parser` as the connection does: one step at a time, each consuming what the
// parser used, until it is done; returns the body pieces in order.
std::vector<std::string> ParseAll(ResponseParser& parser, std::string_view text) {
  std::vector<std::string> pieces;
  for (int step = 0; step < 100 && !parser.is_done(); ++step) {
    parser.clear_piece();
    boost::beast::error_code ec;
    const size_t used = parser.put(boost::asio::buffer(text.data(), text.size()), ec);
    EXPECT_TRUE(!ec || ec == http::error::need_buffer) << ec.message();
    if (!parser.piece().empty()) pieces.emplace_back(parser.piece());
    text.remove_prefix(used);
  }
  EXPECT_TRUE(parser.is_done());
  EXPECT_TRUE(text.empty());
  return pieces;
}

TEST(ResponseParserTest, KeepsTheStatusAndBuildsTheFieldsWhenAsked) {
  ResponseParser parser;
  const std::vector<std::string> pieces = ParseAll(parser,
                                                   "HTTP/1.1 429 Too Many Requests\r\n"
                                                   "Content-Type: application/json\r\n"
                                                   "retry-after: 7\r\n"
                                                   "X-Trace: a\r\n"
                                                   "x-trace: b\r\n"
                                                   "Content-Length: 2\r\n"
                                                   "\r\n"
                                                   "{}");
  EXPECT_EQ(pieces, std::vector<std::string>{"{}"});
  EXPECT_EQ(parser.status(), 429u);
  EXPECT_TRUE(parser.keep_alive());

  const http::response_header<>& head = parser.head();
  EXPECT_EQ(&head, &parser.head());  // built once
  EXPECT_EQ(head.result_int(), 429u);
  EXPECT_EQ(head.version(), 11u);
  EXPECT_EQ(head.reason(), "Too Many Requests");
  EXPECT_EQ(head[http::field::content_type], "application/json");
  EXPECT_EQ(head["Retry-After"], "7");
  EXPECT_EQ(head[http::field::content_length], "2");
  // Beast keeps each name as first written: both spellings of x-trace, in their order.
  std::vector<std::string> all;
  for (const auto& field : head) all.push_back(std::string(field.name_string()) + "=" + std::string(field.value()));
  EXPECT_EQ(all, (std::vector<std::string>{"Content-Type=application/json", "retry-after=7", "X-Trace=a",
                                           "x-trace=b", "Content-Length=2"}));
}

TEST(ResponseParserTest, HandsOutChunkedBodiesOnePieceAtATimeWithoutFraming) {
  ResponseParser parser;
  const std::vector<std::string> pieces = ParseAll(parser,
                                                   "HTTP/1.1 200 OK\r\n"
                                                   "Transfer-Encoding: chunked\r\n"
                                                   "Connection: close\r\n"
                                                   "\r\n"
                                                   "5\r\nhello\r\n"
                                                   "1;ext=1\r\n,\r\n"
                                                   "6\r\n world\r\n"
                                                   "0\r\n\r\n");
  EXPECT_EQ(pieces, (std::vector<std::string>{"hello", ",", " world"}));
  EXPECT_EQ(parser.status(), 200u);
  EXPECT_FALSE(parser.keep_alive());
  EXPECT_EQ(parser.head().reason(), "OK");
}

TEST(ResponseParserTest, RejectsWhatBeastRejects) {
  ResponseParser parser;
  boost::beast::error_code ec;
  const std::string_view text = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab";
  parser.put(boost::asio::buffer(text.data(), text.size()), ec);
  EXPECT_EQ(ec, http::error::multiple_content_length);
}

}  // namespace
}  // namespace llmesh::upstream::internal
