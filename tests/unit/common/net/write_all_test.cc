#include "common/net/write_all.h"

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

#include "gtest/gtest.h"

namespace llmesh::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// More than the socket buffers hold, so part of the write has to wait for the reader.
TEST(WriteAllTest, DeliversEveryByteInOrderWhenTheKernelTakesOnlyPart) {
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

TEST(WriteAllTest, ReportsAClosedPeer) {
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
}  // namespace llmesh::net
