#include "common/net/write_all.h"

#include <tuple>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>

namespace llmesh::net {

namespace asio = boost::asio;
using boost::system::error_code;

asio::awaitable<error_code> WriteAll(asio::ip::tcp::socket& socket, std::span<const asio::const_buffer> buffers) {
  error_code ec;
  if (!socket.non_blocking()) socket.non_blocking(true, ec);
  if (ec) co_return ec;
  const size_t total = asio::buffer_size(buffers);
  const size_t written = socket.write_some(buffers, ec);
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) co_return ec;
  if (written == total) co_return error_code();
  boost::beast::buffers_suffix<std::span<const asio::const_buffer>> rest(buffers);
  rest.consume(written);
  auto [write_ec, ignored] = co_await asio::async_write(socket, rest, asio::as_tuple(asio::use_awaitable));
  co_return write_ec;
}

}  // namespace llmesh::net
