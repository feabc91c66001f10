// The HTTP/1.1 parser of one request the server reads, into the Request its handler gets.
//
// Internal to the server: Connection feeds it from its read buffer. It follows RFC 9112's rules
// for requests as Beast's request parser does, with Beast's error codes (which the connection
// answers with 400, 413 or 431): lines and fields as head_lines.h reads them, a request line of
// a token method, a target of visible ASCII and HTTP/1.0 or 1.1, no obs-fold, one Content-Length,
// chunked as the last transfer coding and never with a Content-Length (a request framed two ways
// is refused: a proxy that picked one could be smuggled the other), and the body limit checked
// against Content-Length as soon as the head is read. It is not Beast's parser because that one
// walked the head byte by byte and classified every field name on its way into the request:
// this one checks each line with one search, and the request's fields are inserted as before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>

#include "common/http/head_lines.h"
#include "common/http/server.h"

namespace llmesh::http::internal {

class RequestParser {
 public:
  RequestParser(size_t header_limit, uint64_t body_limit) : header_limit_(header_limit), body_limit_(body_limit) {}

  // Parses what it can of `bytes` and returns how many it used: the whole head once it is all
  // there, then body bytes. Sets `ec` to need_more when it needs more bytes to go on, or to the
  // error in the request (header_limit and body_limit included).
  size_t put(boost::asio::const_buffer bytes, boost::beast::error_code& ec);

  bool is_header_done() const { return state_ != State::kHead; }
  bool is_done() const { return state_ == State::kDone; }
  // The request read so far: its head once is_header_done(), its body once is_done().
  Request& get() { return request_; }
  const Request& get() const { return request_; }

 private:
  enum class State : uint8_t { kHead, kLength, kChunked, kDone };

  // The head at the start of `bytes` (empty lines before it skipped); `used`: its size, the
  // empty line after it included.
  boost::beast::error_code ParseHead(std::string_view bytes, size_t& used);
  boost::beast::error_code ParseRequestLine(std::string_view line);
  boost::beast::error_code ParseField(std::string_view line);
  boost::beast::error_code StartBody();
  // Adds `piece` to the body, within the body limit.
  boost::beast::error_code Append(std::string_view piece);

  const size_t header_limit_;
  const uint64_t body_limit_;
  State state_ = State::kHead;
  Request request_;
  BodyFraming framing_;
  uint64_t remaining_ = 0;  // Content-Length bytes still to come
  ChunkedReader chunked_reader_;
};

}  // namespace llmesh::http::internal
