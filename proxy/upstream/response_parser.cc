#include "proxy/upstream/response_parser.h"

#include <algorithm>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

#include "common/http/head_lines.h"

namespace llmesh::upstream::internal {
namespace {

namespace bhttp = boost::beast::http;
using boost::beast::error_code;

}  // namespace

size_t ResponseParser::put(boost::asio::const_buffer buffer, error_code& ec) {
  const std::string_view bytes(static_cast<const char*>(buffer.data()), buffer.size());
  if (!bytes.empty()) got_some_ = true;
  ec = {};
  switch (state_) {
    case State::kHead: {
      // The head is taken whole: until it is all there, nothing is used.
      size_t used = 0;
      ec = ParseHead(bytes, used);
      if (!ec) ec = StartBody();
      if (!ec) return used;
      if (ec == bhttp::error::need_more) {
        *this = ResponseParser(header_limit_, head_request_);  // a partial head is read again whole
        got_some_ = true;
      }
      return 0;
    }
    case State::kLength: {
      if (!piece_.empty()) return 0;
      if (bytes.empty()) {
        ec = bhttp::error::need_more;
        return 0;
      }
      const size_t size = static_cast<size_t>(std::min<uint64_t>(remaining_, bytes.size()));
      piece_ = bytes.substr(0, size);
      remaining_ -= size;
      if (remaining_ == 0) state_ = State::kDone;
      return size;
    }
    case State::kUntilEof:
      if (!piece_.empty()) return 0;
      if (bytes.empty()) ec = bhttp::error::need_more;
      piece_ = bytes;
      return bytes.size();
    case State::kChunked: {
      if (!piece_.empty()) return 0;
      size_t used = 0;
      ec = chunked_reader_.Step(bytes, used, piece_);
      if (chunked_reader_.done()) state_ = State::kDone;
      return used;
    }
    case State::kDone:
      return 0;
  }
  return 0;
}

void ResponseParser::put_eof(error_code& ec) {
  ec = {};
  if (state_ == State::kUntilEof) {
    state_ = State::kDone;
  } else if (state_ != State::kDone) {
    ec = bhttp::error::partial_message;
  }
}

bool ResponseParser::keep_alive() const {
  if (content_until_eof_ || close_) return false;
  return version_ >= 11 || keep_alive_token_;
}

boost::optional<uint64_t> ResponseParser::content_length_remaining() const {
  if (state_ != State::kLength) return boost::none;
  return remaining_;
}

error_code ResponseParser::ParseHead(std::string_view bytes, size_t& used) {
  fields_text_.reserve(512);  // a typical provider head, in one allocation
  return http::ReadHead(
      bytes, header_limit_, used, [this](std::string_view line) { return ParseStatusLine(line); },
      [this](std::string_view line) { return ParseField(line); });
}

error_code ResponseParser::ParseStatusLine(std::string_view line) {
  // HTTP/1.x SP 3DIGIT [SP reason]
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || line[5] < '0' || line[5] > '9' || line[6] != '.' ||
      line[7] < '0' || line[7] > '9' || line[8] != ' ') {
    return bhttp::error::bad_version;
  }
  if (line[5] != '1') return bhttp::error::bad_version;
  version_ = 10 + (line[7] - '0');
  unsigned status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return bhttp::error::bad_status;
    status = status * 10 + static_cast<unsigned>(line[i] - '0');
  }
  if (status < 100) return bhttp::error::bad_status;
  status_ = status;
  std::string_view reason;
  if (line.size() > 12) {
    if (line[12] != ' ') return bhttp::error::bad_status;
    reason = line.substr(13);
  }
  fields_text_.assign(reason.data(), reason.size());
  reason_size_ = reason.size();
  return {};
}

error_code ResponseParser::ParseField(std::string_view line) {
  if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
    // obs-fold: RFC 9112 has a recipient of a response replace it with a space, which joins the
    // line to the value before it (always the last text kept). Not for a field that frames the
    // body, whose value was already read.
    const std::string_view more = http::TrimSpace(line);
    if (fields_.empty() || last_framing_) return bhttp::error::bad_value;
    if (!more.empty()) {
      fields_text_.append(1, ' ').append(more);
      fields_.back().value_size += static_cast<uint32_t>(more.size() + 1);
    }
    return {};
  }
  std::string_view name, value;
  if (error_code ec = http::SplitFieldLine(line, name, value)) return ec;
  // The header limit (at most 64 KiB, set by the exchange) keeps every offset within 32 bits.
  const auto at = static_cast<uint32_t>(fields_text_.size());
  fields_text_.append(name).append(value);
  fields_.push_back({at, static_cast<uint32_t>(name.size()), static_cast<uint32_t>(at + name.size()),
                     static_cast<uint32_t>(value.size())});
  return OnFramingField(name, value);
}

error_code ResponseParser::OnFramingField(std::string_view name, std::string_view value) {
  if (error_code ec = framing_.Take(name, value, last_framing_); ec || last_framing_) return ec;
  if (http::EqualsLowercase(name, "connection")) {
    last_framing_ = true;
    return http::ForEachListElement(value, [this](std::string_view option) -> error_code {
      if (boost::beast::iequals(option, "close")) close_ = true;
      if (boost::beast::iequals(option, "keep-alive")) keep_alive_token_ = true;
      return {};
    });
  }
  return {};
}

error_code ResponseParser::StartBody() {
  if (framing_.transfer_encoding && framing_.content_length) return bhttp::error::bad_transfer_encoding;
  if (status_ < 200 || status_ == 204 || status_ == 304 || head_request_) {
    state_ = State::kDone;
  } else if (framing_.transfer_encoding) {
    // A response whose last coding is not chunked runs to the end of the connection.
    state_ = framing_.chunked ? State::kChunked : State::kUntilEof;
  } else if (framing_.content_length) {
    remaining_ = *framing_.content_length;
    state_ = remaining_ == 0 ? State::kDone : State::kLength;
  } else {
    state_ = State::kUntilEof;
  }
  content_until_eof_ = state_ == State::kUntilEof;
  return {};
}

const bhttp::response_header<>& ResponseParser::head() const {
  if (head_) return *head_;
  head_.emplace();
  head_->result(status_);
  head_->version(version_);
  const std::string_view text = fields_text_;
  head_->reason(text.substr(0, reason_size_));
  for (const FieldSpan& span : fields_) {
    head_->insert(text.substr(span.name_begin, span.name_size), text.substr(span.value_begin, span.value_size));
  }
  return *head_;
}

}  // namespace llmesh::upstream::internal
