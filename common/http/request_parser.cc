#include "common/http/request_parser.h"

#include <algorithm>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

namespace llmesh::http::internal {
namespace {

namespace bhttp = boost::beast::http;
using boost::beast::error_code;

boost::beast::string_view BeastView(std::string_view text) { return {text.data(), text.size()}; }

}  // namespace

size_t RequestParser::put(boost::asio::const_buffer buffer, error_code& ec) {
  const std::string_view bytes(static_cast<const char*>(buffer.data()), buffer.size());
  ec = {};
  switch (state_) {
    case State::kHead: {
      // The head is taken whole: until it is all there, nothing is used.
      size_t used = 0;
      ec = ParseHead(bytes, used);
      if (!ec) ec = StartBody();
      if (!ec) return used;
      if (ec == bhttp::error::need_more) {
        request_ = Request();  // a partial head is read again whole
        framing_ = BodyFraming();
      }
      return 0;
    }
    case State::kLength: {
      const size_t size = static_cast<size_t>(std::min<uint64_t>(remaining_, bytes.size()));
      request_.body().append(bytes.data(), size);
      remaining_ -= size;
      if (remaining_ == 0) {
        state_ = State::kDone;
      } else {
        ec = bhttp::error::need_more;
      }
      return size;
    }
    case State::kChunked: {
      // Bounded: every step consumes bytes or returns.
      size_t used = 0;
      while (!ec && !chunked_reader_.done()) {
        size_t step = 0;
        std::string_view piece;
        ec = chunked_reader_.Step(bytes.substr(used), step, piece);
        used += step;
        if (!ec) ec = Append(piece);
        if (step == 0 && !ec) ec = bhttp::error::need_more;
      }
      if (chunked_reader_.done()) state_ = State::kDone;
      return used;
    }
    case State::kDone:
      return 0;
  }
  return 0;
}

error_code RequestParser::ParseHead(std::string_view bytes, size_t& used) {
  // RFC 9112 has a server ignore empty lines before the request line (left after a body by
  // some clients); the header limit bounds them.
  size_t empty_lines = 0;
  while (empty_lines + 2 <= std::min(bytes.size(), header_limit_) && bytes.substr(empty_lines, 2) == "\r\n") {
    empty_lines += 2;
  }
  const error_code ec = ReadHead(
      bytes.substr(empty_lines), header_limit_ - std::min(header_limit_, empty_lines), used,
      [this](std::string_view line) { return ParseRequestLine(line); },
      [this](std::string_view line) { return ParseField(line); });
  used += empty_lines;
  return ec;
}

error_code RequestParser::ParseRequestLine(std::string_view line) {
  // method SP request-target SP HTTP-version
  const size_t method_end = line.find(' ');
  if (method_end == std::string_view::npos || !IsToken(line.substr(0, method_end))) return bhttp::error::bad_method;
  const std::string_view method = line.substr(0, method_end);
  line.remove_prefix(method_end + 1);
  const size_t target_end = line.find(' ');
  if (target_end == 0 || target_end == std::string_view::npos) return bhttp::error::bad_target;
  const std::string_view target = line.substr(0, target_end);
  // The line holds no control character; the target no obs-text either.
  for (const char c : target) {
    if (static_cast<unsigned char>(c) >= 0x80) return bhttp::error::bad_target;
  }
  const std::string_view version = line.substr(target_end + 1);
  if (version == "HTTP/1.1") {
    request_.version(11);
  } else if (version == "HTTP/1.0") {
    request_.version(10);
  } else {
    return bhttp::error::bad_version;
  }
  request_.method_string(BeastView(method));
  request_.target(BeastView(target));
  return {};
}

error_code RequestParser::ParseField(std::string_view line) {
  // obs-fold: RFC 9112 lets a server refuse it, which leaves no doubt about where a value ends.
  if (line.front() == ' ' || line.front() == '\t') return bhttp::error::bad_value;
  std::string_view name, value;
  if (error_code ec = SplitFieldLine(line, name, value)) return ec;
  request_.insert(BeastView(name), BeastView(value));
  bool framing;
  return framing_.Take(name, value, framing);
}

error_code RequestParser::StartBody() {
  if (framing_.transfer_encoding) {
    if (!framing_.chunked || framing_.content_length) return bhttp::error::bad_transfer_encoding;
    state_ = State::kChunked;
    return {};
  }
  const uint64_t length = framing_.content_length.value_or(0);
  if (length > body_limit_) return bhttp::error::body_limit;
  // Content-Length announces the body; the limit keeps the announcement honest.
  request_.body().reserve(static_cast<size_t>(length));
  remaining_ = length;
  state_ = length == 0 ? State::kDone : State::kLength;
  return {};
}

error_code RequestParser::Append(std::string_view piece) {
  if (piece.size() > body_limit_ - request_.body().size()) return bhttp::error::body_limit;
  request_.body().append(piece);
  return {};
}

}  // namespace llmesh::http::internal
