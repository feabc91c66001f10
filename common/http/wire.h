// HTTP/1.1 bytes, shared by both ends of the request path (the server's client connections and
// the proxy's upstream connections): message heads serialized into a reused string and the
// chunked coding's size lines. The writes themselves are net::WriteAll (common/net).
//
// Threading: the socket's executor; the functions keep no state.
#pragma once

#include <span>
#include <string>

#include <boost/beast/http/message.hpp>

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

}  // namespace llmesh::http
