#include "proxy/upstream/response_parser.h"

#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/optional/optional_io.hpp>

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
    EXPECT_FALSE(ec) << ec.message();
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

// Feeds `text` as a connection that receives one more byte at a time does: unused bytes stay
// in its buffer and come again with the next one. Returns the body and the last error.
struct Trickled {
  std::string body;
  boost::beast::error_code ec;
  bool done = false;
};
Trickled Trickle(ResponseParser& parser, std::string_view text) {
  Trickled result;
  std::string buffer;
  for (size_t next = 0; next < text.size() && !parser.is_done();) {
    buffer.push_back(text[next++]);
    for (int step = 0; step < 4 && !buffer.empty() && !parser.is_done(); ++step) {
      parser.clear_piece();
      const size_t used = parser.put(boost::asio::buffer(buffer.data(), buffer.size()), result.ec);
      result.body.append(parser.piece());
      buffer.erase(0, used);
      if (result.ec == http::error::need_more) break;
      if (result.ec) return result;
    }
  }
  result.done = parser.is_done();
  return result;
}

// The first error `text` meets when given whole.
boost::beast::error_code ErrorOf(std::string_view text, bool head_request = false) {
  ResponseParser parser;
  parser.skip(head_request);
  boost::beast::error_code ec;
  for (int step = 0; step < 100 && !parser.is_done(); ++step) {
    parser.clear_piece();
    const size_t used = parser.put(boost::asio::buffer(text.data(), text.size()), ec);
    text.remove_prefix(used);
    if (ec) return ec;
  }
  return ec;
}

TEST(ResponseParserTest, ReadsTheSameResponseWhateverTheBytesArriveIn) {
  const std::string chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nX-Folded: one\r\n  two\r\n\r\n"
      "5\r\nhello\r\n1;ext=\"a b\"\r\n,\r\n10\r\n 0123456789abcde\r\n0\r\nX-Trailer: t\r\n\r\n";
  ResponseParser whole;
  EXPECT_EQ(ParseAll(whole, chunked), (std::vector<std::string>{"hello", ",", " 0123456789abcde"}));
  ResponseParser trickled;
  const Trickled result = Trickle(trickled, chunked);
  EXPECT_FALSE(result.ec) << result.ec.message();
  EXPECT_TRUE(result.done);
  EXPECT_EQ(result.body, "hello, 0123456789abcde");
  EXPECT_EQ(trickled.head()["X-Folded"], "one two");

  ResponseParser sized;
  const Trickled by_length = Trickle(sized, "HTTP/1.1 201 Created\r\ncontent-length: 3\r\n\r\nabc");
  EXPECT_TRUE(by_length.done);
  EXPECT_EQ(by_length.body, "abc");
  EXPECT_EQ(sized.status(), 201u);
  EXPECT_EQ(sized.head().count(http::field::content_length), 1u) << "a head read in parts is read once";
}

TEST(ResponseParserTest, TheLastPieceComesWithTheEndOfAChunkedBody) {
  ResponseParser parser;
  boost::beast::error_code ec;
  const std::string_view text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
  size_t used = parser.put(boost::asio::buffer(text.data(), text.size()), ec);
  ASSERT_FALSE(ec);
  ASSERT_TRUE(parser.is_header_done());
  used += parser.put(boost::asio::buffer(text.substr(used).data(), text.size() - used), ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(parser.piece(), "hello");
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(used, text.size());
}

TEST(ResponseParserTest, FramesTheBodyAsTheStatusAndFieldsSay) {
  struct Case {
    std::string text;
    bool head_request;
    bool done_at_head;    // no body at all
    bool until_eof;       // the body runs to the end of the connection
    bool keep_alive;
  };
  const Case cases[] = {
      {"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", false, true, false, true},
      {"HTTP/1.1 304 Not Modified\r\n\r\n", false, true, false, true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, true, false, true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, true, false, true},
      {"HTTP/1.1 100 Continue\r\n\r\n", false, true, false, true},
      {"HTTP/1.1 200 OK\r\n\r\n", false, false, true, false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, false, true, false},
      {"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", false, false, false, false},
      {"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\n", false, false, false, true},
      {"HTTP/1.1 200\r\nConnection: upgrade, close\r\nContent-Length: 1\r\n\r\n", false, false, false, false},
  };
  for (const Case& c : cases) {
    ResponseParser parser;
    parser.skip(c.head_request);
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(c.text.data(), c.text.size()), ec);
    ASSERT_FALSE(ec) << c.text << ec.message();
    EXPECT_TRUE(parser.is_header_done()) << c.text;
    EXPECT_EQ(parser.is_done(), c.done_at_head) << c.text;
    EXPECT_EQ(parser.keep_alive(), c.keep_alive) << c.text;
    if (c.until_eof) {
      EXPECT_FALSE(parser.content_length_remaining()) << c.text;
      parser.put(boost::asio::buffer("body", 4), ec);
      EXPECT_EQ(parser.piece(), "body") << c.text;
      parser.put_eof(ec);
      EXPECT_FALSE(ec) << c.text;
      EXPECT_TRUE(parser.is_done()) << c.text;
    }
  }
}

TEST(ResponseParserTest, ReportsTheLengthStillToComeAndAnEndBeforeIt) {
  ResponseParser parser;
  boost::beast::error_code ec;
  const std::string_view text = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcd";
  const size_t used = parser.put(boost::asio::buffer(text.data(), text.size()), ec);
  EXPECT_EQ(parser.content_length_remaining(), boost::optional<uint64_t>(10));
  parser.put(boost::asio::buffer(text.substr(used).data(), text.size() - used), ec);
  EXPECT_EQ(parser.piece(), "abcd");
  EXPECT_EQ(parser.content_length_remaining(), boost::optional<uint64_t>(6));
  parser.put_eof(ec);
  EXPECT_EQ(ec, http::error::partial_message);
}

TEST(ResponseParserTest, RejectsWhatBeastRejects) {
  const std::pair<std::string, http::error> cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", http::error::multiple_content_length},
      {"HTTP/2.0 200 OK\r\n\r\n", http::error::bad_version},
      {"HTTQ/1.1 200 OK\r\n\r\n", http::error::bad_version},
      {"HTTP/1.1 20 OK\r\n\r\n", http::error::bad_status},
      {"HTTP/1.1 099 Odd\r\n\r\n", http::error::bad_status},
      {"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", http::error::bad_field},
      {"HTTP/1.1 200 OK\r\n: x\r\n\r\n", http::error::bad_field},
      {"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", http::error::bad_field},
      {"HTTP/1.1 200 OK\r\nX: a\x01" "b\r\n\r\n", http::error::bad_line_ending},
      {"HTTP/1.1 200 OK\nX: a\r\n\r\n", http::error::bad_line_ending},
      {"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", http::error::bad_line_ending},
      {"HTTP/1.1 200 OK\r\n folded\r\n\r\n", http::error::bad_value},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n 2\r\n\r\n", http::error::bad_value},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1a\r\n\r\n", http::error::bad_content_length},
      {"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", http::error::bad_content_length},
      {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", http::error::bad_content_length},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", http::error::bad_transfer_encoding},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
       http::error::bad_transfer_encoding},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", http::error::bad_transfer_encoding},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", http::error::bad_chunk},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2 x\r\nab\r\n", http::error::bad_chunk},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", http::error::bad_chunk},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n11111111111111111\r\n", http::error::bad_chunk},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nno colon\r\n\r\n", http::error::bad_field},
  };
  for (const auto& [text, error] : cases) EXPECT_EQ(ErrorOf(text), error) << text;
}

TEST(ResponseParserTest, AHeadPastTheLimitIsRefused) {
  ResponseParser parser;
  parser.header_limit(64);
  boost::beast::error_code ec;
  std::string text = "HTTP/1.1 200 OK\r\nX-Long: ";
  text.append(100, 'a');
  EXPECT_EQ(parser.put(boost::asio::buffer(text.data(), 40), ec), 0u);
  EXPECT_EQ(ec, http::error::need_more);
  EXPECT_TRUE(parser.got_some());
  EXPECT_EQ(parser.put(boost::asio::buffer(text.data(), text.size()), ec), 0u);
  EXPECT_EQ(ec, http::error::header_limit);
}

}  // namespace
}  // namespace llmesh::upstream::internal
