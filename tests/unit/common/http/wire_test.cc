#include "common/http/wire.h"

#include <array>
#include <chrono>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/message.hpp>

#include "gtest/gtest.h"

namespace llmesh::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

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

// More than the socket buffers hold, so part of the write has to wait for the reader.
TEST(WireTest, WriteAllDeliversEveryByteInOrderWhenTheKernelTakesOnlyPart) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket writer(io);
  writer.connect(acceptor.local_endpoint());
  tcp::socket reader = acceptor.accept();

  const std::string head(100, 'h');
  std::string big(8 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  const std::string tail = "end";
  const std::array<asio::const_buffer, 4> buffers = {asio::buffer(head), asio::const_buffer(), asio::buffer(big),
                                                     asio::buffer(tail)};
  const size_t total = head.size() + big.size() + tail.size();

  boost::system::error_code write_ec = asio::error::would_block;
  std::string received;
  bool read_done = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> { write_ec = co_await WriteAll(writer, buffers); },
                 asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        received.resize(total);
        auto [ec, n] = co_await asio::async_read(reader, asio::buffer(received),
                                                 asio::as_tuple(asio::use_awaitable));
        received.resize(n);
        read_done = true;
      },
      asio::detached);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!read_done && std::chrono::steady_clock::now() < give_up) io.run_one_until(give_up);

  ASSERT_TRUE(read_done);
  EXPECT_FALSE(write_ec) << write_ec.message();
  ASSERT_EQ(received.size(), total);
  EXPECT_TRUE(received == head + big + tail);
}

TEST(WireTest, WriteAllReportsAClosedPeer) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket writer(io);
  writer.connect(acceptor.local_endpoint());
  acceptor.accept().close();

  const std::string chunk(1 << 20, 'x');
  const std::array<asio::const_buffer, 1> buffers = {asio::buffer(chunk)};
  boost::system::error_code ec;
  bool done = false;
  // The first writes may still land in the kernel; within a bounded number the reset shows.
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 64 && !ec; ++i) ec = co_await WriteAll(writer, buffers);
        done = true;
      },
      asio::detached);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done && std::chrono::steady_clock::now() < give_up) io.run_one_until(give_up);
  ASSERT_TRUE(done);
  EXPECT_TRUE(ec == asio::error::broken_pipe || ec == asio::error::connection_reset) << ec.message();
}

}  // namespace
}  // namespace llmesh::http
