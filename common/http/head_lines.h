// Reading an HTTP/1.1 head (request or response) and chunked framing from bytes in a buffer, as
// the server's request parser and the proxy's upstream response parser both do.
//
// The rules are RFC 9112's, applied as Beast's parser applies them and reported with Beast's
// error codes: lines end in CRLF, field names are tokens, field values hold no control
// character but the tab, chunk sizes are hex with extensions ignored, trailers are read past.
// A head is checked a line at a time: one SIMD search per line finds its end and any octet a
// head cannot hold, so a line's text is only walked again for a field's name.
// Pure functions and a small state machine; thread-compatible.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

namespace llmesh::http {

// True for a non-empty token (RFC 9110: a method, a field name).
bool IsToken(std::string_view text);

// True when the token `token` is `lower` (lowercase letters, digits and '-') but for case: a
// cheaper test than a general case-insensitive comparison, for the names a parser looks for.
bool EqualsLowercase(std::string_view token, std::string_view lower);

// Spaces and tabs at both ends removed.
std::string_view TrimSpace(std::string_view text);

// The next line of a head, starting at `line` and ending before `end` (the buffer's end, or the
// header limit): sets `text` to it without its CRLF and moves `line` past the CRLF. need_more
// when no CRLF ends it yet; bad_line_ending when a control character (a lone CR or LF, or any
// other but the tab) or DEL comes first.
boost::beast::error_code NextHeadLine(const char*& line, const char* end, std::string_view& text);

// A header field's line as NextHeadLine gives it (followed in memory by its CR): its name (a
// token) and its value, trimmed. bad_field when there is no token before a colon. A line that
// starts with a space or a tab is an obs-fold, which the caller handles before this.
boost::beast::error_code SplitFieldLine(std::string_view line, std::string_view& name, std::string_view& value);

// Reads the head at the start of `bytes`, no further than `limit` octets: calls `first_line`
// with its start line and `field` with each field line (as NextHeadLine gives them), stopping at
// and returning the first error they return; `used` is then set to the head's size, the empty
// line after it included. need_more when the head is not all there yet, header_limit when it
// cannot be within `limit` (what was read of it is then the caller's to forget).
template <class FirstLine, class Field>
boost::beast::error_code ReadHead(std::string_view bytes, size_t limit, size_t& used, FirstLine first_line,
                                  Field field) {
  const char* const begin = bytes.data();
  const char* const end = begin + std::min(bytes.size(), limit);
  const char* line = begin;
  for (bool start = true;; start = false) {
    std::string_view text;
    if (boost::beast::error_code ec = NextHeadLine(line, end, text)) {
      if (ec == boost::beast::http::error::need_more && bytes.size() >= limit) {
        return boost::beast::http::error::header_limit;
      }
      return ec;
    }
    if (start) {
      if (boost::beast::error_code ec = first_line(text)) return ec;
    } else if (text.empty()) {
      used = static_cast<size_t>(line - begin);
      return {};
    } else if (boost::beast::error_code ec = field(text)) {
      return ec;
    }
  }
}

// What a message's fields say about how its body is framed.
struct BodyFraming {
  std::optional<uint64_t> content_length;
  bool transfer_encoding = false;  // a Transfer-Encoding field came
  bool chunked = false;            // ... and its last coding is chunked

  // Takes the field when it is Content-Length or Transfer-Encoding (`taken` says which it was):
  // multiple_content_length for a second Content-Length, bad_content_length for one that is not
  // a number, bad_transfer_encoding for a coding after chunked (the list goes on across repeated
  // fields).
  boost::beast::error_code Take(std::string_view name, std::string_view value, bool& taken);
};

// Calls `each` with every non-empty element of a comma-separated list, trimmed; stops at and
// returns the first error it returns.
template <class Each>
boost::beast::error_code ForEachListElement(std::string_view list, Each each) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view element = TrimSpace(list.substr(0, comma));
    if (!element.empty()) {
      if (boost::beast::error_code ec = each(element)) return ec;
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return {};
}

// The body of a chunked message, framing removed: Step hands out its data a piece at a time.
class ChunkedReader {
 public:
  // Consumes framing from `bytes` as far as it goes and at most one piece of data, which it
  // puts in `piece` (a view of `bytes`); `used` counts what it consumed. Returns need_more when
  // it ran out of bytes before producing a piece or reaching the end (not when it produced one),
  // or bad_chunk / bad_field for broken framing. The end's framing that follows a piece is
  // consumed with it when at hand, so the last piece comes with done().
  boost::beast::error_code Step(std::string_view bytes, size_t& used, std::string_view& piece);
  bool done() const { return state_ == State::kDone; }

 private:
  enum class State : uint8_t { kSize, kData, kDataEnd, kTrailer, kDone };

  State state_ = State::kSize;
  uint64_t remaining_ = 0;  // of the current chunk's data
};

}  // namespace llmesh::http
