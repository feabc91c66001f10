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
      if (ec == bhttp::error::need_more) {
        request_ = Request();
        content_length_.reset();
        transfer_encoding_ = chunked_ = false;
        if (bytes.size() >= header_limit_) ec = bhttp::error::header_limit;
        return 0;
      }
      if (!ec) ec = StartBody();
      return ec ? 0 : used;
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
  const char* const begin = bytes.data();
  const char* const end = begin + std::min(bytes.size(), header_limit_);
  const char* line = begin;
  // RFC 9112 has a server ignore empty lines before the request line (left after a body by
  // some clients); the header limit bounds them.
  while (end - line >= 2 && line[0] == '\r' && line[1] == '\n') line += 2;
  for (bool request_line = true;; request_line = false) {
    std::string_view text;
    if (error_code ec = NextHeadLine(line, end, text)) return ec;
    if (request_line) {
      if (error_code ec = ParseRequestLine(text)) return ec;
    } else if (text.empty()) {
      used = static_cast<size_t>(line - begin);
      return {};
    } else if (error_code ec = ParseField(text)) {
      return ec;
    }
  }
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
  if (name.size() == 14 && boost::beast::iequals(BeastView(name), "content-length")) {
    if (content_length_) return bhttp::error::multiple_content_length;
    if (value.empty() || value.size() > 19) return bhttp::error::bad_content_length;
    uint64_t length = 0;
    for (const char c : value) {
      if (c < '0' || c > '9') return bhttp::error::bad_content_length;
      length = length * 10 + static_cast<uint64_t>(c - '0');
    }
    content_length_ = length;
  } else if (name.size() == 17 && boost::beast::iequals(BeastView(name), "transfer-encoding")) {
    transfer_encoding_ = true;
    // chunked must be the last coding; the list goes on across repeated fields.
    return ForEachListElement(value, [this](std::string_view coding) -> error_code {
      if (chunked_) return bhttp::error::bad_transfer_encoding;
      chunked_ = boost::beast::iequals(BeastView(coding), "chunked");
      return {};
    });
  }
  return {};
}

error_code RequestParser::StartBody() {
  if (transfer_encoding_) {
    if (!chunked_ || content_length_) return bhttp::error::bad_transfer_encoding;
    state_ = State::kChunked;
    return {};
  }
  const uint64_t length = content_length_.value_or(0);
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
