// HTTP/1.1 bytes on a socket, shared by both ends of the request path (the server's client
// connections and the proxy's upstream connections): message heads serialized into a reused
// string, and writes that finish without a trip through the event loop when the kernel takes
// the bytes at once — the usual case for a request or response of a few KiB.
//
// Threading: the socket's executor; the functions keep no state.
#pragma once

#include <span>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/system/error_code.hpp>

namespace llmesh::http {

// Appends the request line, the fields and the blank line that ends the head. The fields are
// written as they are: framing headers (Content-Length, Transfer-Encoding) must already be set.
void AppendRequestHead(const boost::beast::http::request_header<>& head, std::string& out);
// Appends the status line (with the head's reason, or the standard one), the fields and the
// blank line.
void AppendResponseHead(const boost::beast::http::response_header<>& head, std::string& out);

// Longest chunk-size line of the chunked transfer coding: hex digits of a size_t and CRLF.
inline constexpr size_t kChunkSizeLineBytes = sizeof(size_t) * 2 + 2;
// Writes the chunk-size line announcing `size` bytes ("1a2b\r\n"); returns its length.
size_t FormatChunkSize(size_t size, std::span<char, kChunkSizeLineBytes> line);

// The most buffers one WriteAll takes.
inline constexpr size_t kMaxWriteBuffers = 4;

// Writes every byte of `buffers` (at most kMaxWriteBuffers) to a plain TCP socket. A
// non-blocking write is tried first; only what the kernel does not accept at once is left to an
// asynchronous write. Puts the socket in non-blocking mode on first use. Completes with the
// first error; cancellable through the awaiting coroutine while the asynchronous part runs.
boost::asio::awaitable<boost::system::error_code> WriteAll(boost::asio::ip::tcp::socket& socket,
                                                           std::span<const boost::asio::const_buffer> buffers);

}  // namespace llmesh::http
