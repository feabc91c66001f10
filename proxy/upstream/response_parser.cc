#include "proxy/upstream/response_parser.h"

#include <algorithm>
#include <array>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

namespace llmesh::upstream::internal {
namespace {

namespace http = boost::beast::http;
using boost::beast::error_code;

// The longest chunk-size or trailer line taken (extensions included).
constexpr size_t kMaxChunkLine = 4096;

constexpr std::array<bool, 256> TokenChars() {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (const char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}
constexpr std::array<bool, 256> kTokenChar = TokenChars();

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// The first octet at or after `p` that a head's text cannot hold as it is (a control character
// other than the tab, or DEL), or `end`.
const char* FindControl(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i below_space = _mm_set1_epi8(0x1f);
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i del = _mm_set1_epi8(0x7f);
  while (end - p >= 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i control = _mm_andnot_si128(_mm_cmpeq_epi8(bytes, tab),
                                             _mm_cmpeq_epi8(_mm_min_epu8(bytes, below_space), bytes));
    const int mask = _mm_movemask_epi8(_mm_or_si128(control, _mm_cmpeq_epi8(bytes, del)));
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  for (; p != end; ++p) {
    const auto octet = static_cast<unsigned char>(*p);
    if ((octet < 0x20 && octet != '\t') || octet == 0x7f) return p;
  }
  return end;
}

// A field value's or reason phrase's octets: visible characters, obs-text, spaces and tabs.
bool IsText(std::string_view text) {
  for (const char c : text) {
    const auto octet = static_cast<unsigned char>(c);
    if ((octet < 0x20 && c != '\t') || octet == 0x7f) return false;
  }
  return true;
}

std::string_view TrimSpace(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

// The line at the start of `bytes` without its CRLF, or nullopt when no CRLF ends it there.
std::optional<std::string_view> Line(std::string_view bytes) {
  const size_t cr = bytes.find('\r');
  if (cr == std::string_view::npos || cr + 1 >= bytes.size() || bytes[cr + 1] != '\n') return std::nullopt;
  return bytes.substr(0, cr);
}

// Calls `each` with every non-empty element of a comma-separated list, trimmed; stops at the
// first error it returns.
template <class Each>
error_code ForEachListElement(std::string_view list, Each each) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view element = TrimSpace(list.substr(0, comma));
    if (!element.empty()) {
      if (error_code ec = each(element)) return ec;
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return {};
}

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
      if (ec == http::error::need_more) {
        *this = ResponseParser(header_limit_, head_request_);
        got_some_ = true;
        if (bytes.size() >= header_limit_) ec = http::error::header_limit;
        return 0;
      }
      if (!ec) ec = StartBody();
      return ec ? 0 : used;
    }
    case State::kLength: {
      if (!piece_.empty()) return 0;
      if (bytes.empty()) {
        ec = http::error::need_more;
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
      if (bytes.empty()) ec = http::error::need_more;
      piece_ = bytes;
      return bytes.size();
    case State::kChunkSize:
    case State::kChunkData:
    case State::kChunkEnd:
    case State::kTrailer: {
      size_t used = 0;
      ec = ParseChunked(bytes, used);
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
    ec = http::error::partial_message;
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
  const char* const begin = bytes.data();
  const char* const end = begin + std::min(bytes.size(), header_limit_);
  const char* line = begin;
  for (bool status_line = true;; status_line = false) {
    // Every line ends at its CR, the first control character in it, which must start a CRLF.
    const char* cr = FindControl(line, end);
    if (end - cr < 2) return http::error::need_more;
    if (cr[0] != '\r' || cr[1] != '\n') return http::error::bad_line_ending;
    const std::string_view text(line, static_cast<size_t>(cr - line));
    line = cr + 2;
    if (status_line) {
      if (error_code ec = ParseStatusLine(text)) return ec;
    } else if (text.empty()) {
      used = static_cast<size_t>(line - begin);
      return {};
    } else if (error_code ec = ParseField(text)) {
      return ec;
    }
  }
}

error_code ResponseParser::ParseStatusLine(std::string_view line) {
  // HTTP/1.x SP 3DIGIT [SP reason]
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || line[5] < '0' || line[5] > '9' || line[6] != '.' ||
      line[7] < '0' || line[7] > '9' || line[8] != ' ') {
    return http::error::bad_version;
  }
  if (line[5] != '1') return http::error::bad_version;
  version_ = 10 + (line[7] - '0');
  unsigned status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return http::error::bad_status;
    status = status * 10 + static_cast<unsigned>(line[i] - '0');
  }
  if (status < 100) return http::error::bad_status;
  status_ = status;
  std::string_view reason;
  if (line.size() > 12) {
    if (line[12] != ' ') return http::error::bad_status;
    reason = line.substr(13);
  }
  fields_text_.assign(reason.data(), reason.size());
  reason_size_ = reason.size();
  return {};
}

error_code ResponseParser::ParseField(std::string_view line) {
  if (!line.empty() && IsSpace(line.front())) {
    // obs-fold: RFC 9112 has a recipient of a response replace it with a space, which joins the
    // line to the value before it (always the last text kept). Not for a field that frames the
    // body, whose value was already read.
    const std::string_view more = TrimSpace(line);
    if (fields_.empty() || last_framing_) return http::error::bad_value;
    if (!more.empty()) {
      fields_text_.append(1, ' ').append(more);
      fields_.back().value_size += static_cast<uint32_t>(more.size() + 1);
    }
    return {};
  }
  // Four octets at a time while the line has them, then one by one: the line's CR, right after
  // it, is no token character and ends the name at the latest.
  const auto* octets = reinterpret_cast<const unsigned char*>(line.data());
  size_t colon = 0;
  while (colon + 4 <= line.size() && kTokenChar[octets[colon]] & kTokenChar[octets[colon + 1]] &
                                         kTokenChar[octets[colon + 2]] & kTokenChar[octets[colon + 3]]) {
    colon += 4;
  }
  while (kTokenChar[octets[colon]]) ++colon;
  if (colon == 0 || colon == line.size() || line[colon] != ':') return http::error::bad_field;
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = TrimSpace(line.substr(colon + 1));
  // The header limit (at most 64 KiB, set by the exchange) keeps every offset within 32 bits.
  const auto at = static_cast<uint32_t>(fields_text_.size());
  fields_text_.append(name).append(value);
  fields_.push_back({at, static_cast<uint32_t>(name.size()), static_cast<uint32_t>(at + name.size()),
                     static_cast<uint32_t>(value.size())});
  return OnFramingField(name, value);
}

error_code ResponseParser::OnFramingField(std::string_view name, std::string_view value) {
  last_framing_ = true;
  if (name.size() == 14 && boost::beast::iequals(name, "content-length")) {
    if (content_length_) return http::error::multiple_content_length;
    if (value.empty() || value.size() > 19) return http::error::bad_content_length;
    uint64_t length = 0;
    for (const char c : value) {
      if (c < '0' || c > '9') return http::error::bad_content_length;
      length = length * 10 + static_cast<uint64_t>(c - '0');
    }
    content_length_ = length;
    return {};
  }
  if (name.size() == 17 && boost::beast::iequals(name, "transfer-encoding")) {
    transfer_encoding_ = true;
    // chunked must be the last coding; the list goes on across repeated fields.
    return ForEachListElement(value, [this](std::string_view coding) -> error_code {
      if (chunked_) return http::error::bad_transfer_encoding;
      chunked_ = boost::beast::iequals(coding, "chunked");
      return {};
    });
  }
  if (name.size() == 10 && boost::beast::iequals(name, "connection")) {
    return ForEachListElement(value, [this](std::string_view option) -> error_code {
      if (boost::beast::iequals(option, "close")) close_ = true;
      if (boost::beast::iequals(option, "keep-alive")) keep_alive_token_ = true;
      return {};
    });
  }
  last_framing_ = false;
  return {};
}

error_code ResponseParser::StartBody() {
  if (transfer_encoding_ && content_length_) return http::error::bad_transfer_encoding;
  if (status_ < 200 || status_ == 204 || status_ == 304 || head_request_) {
    state_ = State::kDone;
  } else if (transfer_encoding_) {
    // A response whose last coding is not chunked runs to the end of the connection.
    state_ = chunked_ ? State::kChunkSize : State::kUntilEof;
  } else if (content_length_) {
    remaining_ = *content_length_;
    state_ = remaining_ == 0 ? State::kDone : State::kLength;
  } else {
    state_ = State::kUntilEof;
  }
  content_until_eof_ = state_ == State::kUntilEof;
  return {};
}

error_code ResponseParser::ParseChunked(std::string_view bytes, size_t& used) {
  // Framing is consumed as far as it goes, so the last piece comes with the end of the body
  // when both are at hand; a second piece waits for the next call.
  for (;;) {
    const std::string_view rest = bytes.substr(used);
    // Out of bytes: a piece taken is this call's result, else more are needed.
    const error_code starved = piece_.empty() ? error_code(http::error::need_more) : error_code();
    switch (state_) {
      case State::kChunkSize: {
        const std::optional<std::string_view> line = Line(rest.substr(0, kMaxChunkLine));
        if (!line) return rest.size() >= kMaxChunkLine ? error_code(http::error::bad_chunk) : starved;
        // chunk-size [BWS ; chunk-ext]: the size in hex, extensions ignored.
        size_t digits = 0;
        uint64_t size = 0;
        for (; digits < line->size(); ++digits) {
          const char c = (*line)[digits];
          int value;
          if (c >= '0' && c <= '9') {
            value = c - '0';
          } else if (c >= 'a' && c <= 'f') {
            value = c - 'a' + 10;
          } else if (c >= 'A' && c <= 'F') {
            value = c - 'A' + 10;
          } else {
            break;
          }
          if (size >> 60) return http::error::bad_chunk;
          size = size * 16 + static_cast<uint64_t>(value);
        }
        const std::string_view extension = TrimSpace(line->substr(digits));
        if (digits == 0 || (!extension.empty() && extension.front() != ';') || !IsText(extension)) {
          return http::error::bad_chunk;
        }
        used += line->size() + 2;
        remaining_ = size;
        state_ = size == 0 ? State::kTrailer : State::kChunkData;
        break;
      }
      case State::kChunkData: {
        if (!piece_.empty() || rest.empty()) return starved;
        const size_t size = static_cast<size_t>(std::min<uint64_t>(remaining_, rest.size()));
        piece_ = rest.substr(0, size);
        used += size;
        remaining_ -= size;
        if (remaining_ == 0) state_ = State::kChunkEnd;
        break;
      }
      case State::kChunkEnd:
        if (rest.size() < 2) return starved;
        if (rest[0] != '\r' || rest[1] != '\n') return http::error::bad_chunk;
        used += 2;
        state_ = State::kChunkSize;
        break;
      case State::kTrailer: {
        const std::optional<std::string_view> line = Line(rest.substr(0, kMaxChunkLine));
        if (!line) return rest.size() >= kMaxChunkLine ? error_code(http::error::bad_chunk) : starved;
        used += line->size() + 2;
        if (line->empty()) {
          state_ = State::kDone;
          return {};
        }
        const size_t colon = line->find(':');
        if (colon == 0 || colon == std::string_view::npos || !IsText(*line)) return http::error::bad_field;
        break;
      }
      default:
        return {};
    }
  }
}

const http::response_header<>& ResponseParser::head() const {
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
