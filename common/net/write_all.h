// Writing a whole gather list to a plain TCP socket, trying the kernel before the event loop.
//
// Every writer of the request path uses it: the HTTP/1.1 server connection, the upstream
// HTTP/1.1 connection and the HTTP/2 core's plain transport. A response or request the kernel
// takes at once (the usual case on a healthy connection) costs one sendmsg and no trip through
// the event loop.
#pragma once

#include <span>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace llmesh::net {

// Writes every byte of `buffers` to `socket`: one non-blocking write first, then an
// asynchronous write of whatever the kernel did not take. Puts the socket in non-blocking mode
// on first use. Completes with the first error; cancellable through the awaiting coroutine while
// the asynchronous part runs. `buffers` must stay valid until completion.
boost::asio::awaitable<boost::system::error_code> WriteAll(boost::asio::ip::tcp::socket& socket,
                                                           std::span<const boost::asio::const_buffer> buffers);

}  // namespace llmesh::net
