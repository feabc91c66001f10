// The HTTP/1.1 parser of one upstream response, shaped for the proxy's hot path.
//
// Internal to the upstream layer: Connection feeds it from its read buffer, Http1Exchange reads
// the status and the body from it. A successful answer is only ever looked at for its status and
// body, so the head's fields are kept as text and turned into Beast fields only when head() is
// first called (the failover layer does so for failed answers, to read their error and rate-limit
// headers). The body is handed out without copying, one piece per parse step, as a view of bytes
// still in the connection's read buffer (chunk framing removed); parsing again invalidates it.
//
// It is driven like Beast's parsers (put, put_eof, need_more, the same error codes), and follows
// RFC 9112's rules for responses as Beast's basic_parser does: lines and fields as
// common/http/head_lines.h reads them, one Content-Length, chunked last among the transfer
// codings and never with a Content-Length, no body for 1xx, 204, 304 and answers to HEAD, and a
// body read to the end of the connection when no length is given. It is not Beast's parser
// because that one walked the head byte by byte and classified every field name, which was the
// largest cost of a response left: this one checks each line with one search and looks only at
// the three fields that frame the body.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional/optional.hpp>

#include "absl/container/inlined_vector.h"
#include "common/http/head_lines.h"

namespace llmesh::upstream::internal {

class ResponseParser {
 public:
  ResponseParser() = default;

  // The most bytes the head may take (header_limit when exceeded).
  void header_limit(size_t bytes) { header_limit_ = bytes; }
  // The response answers a HEAD request: whatever it announces, it has no body.
  void skip(bool head_request) { head_request_ = head_request; }

  // Parses what it can of `bytes` and returns how many it used: the whole head once it is all
  // there, then body bytes (at most one piece per call) and chunk framing. Sets `ec` to
  // need_more when it needs more bytes to go on, or to the error in the response.
  size_t put(boost::asio::const_buffer bytes, boost::beast::error_code& ec);
  // The connection ended: completes a body read to the end, or sets `ec` to partial_message.
  void put_eof(boost::beast::error_code& ec);

  // True once put has been given any bytes.
  bool got_some() const { return got_some_; }
  bool is_header_done() const { return state_ != State::kHead; }
  bool is_done() const { return state_ == State::kDone; }
  // Whether the connection may carry another request after this response (HTTP version,
  // Connection tokens, and a body not delimited by the end of the connection).
  bool keep_alive() const;
  // The body bytes still to come when a Content-Length frames it.
  boost::optional<uint64_t> content_length_remaining() const;

  // The status code. Precondition: is_header_done().
  unsigned status() const { return status_; }
  // The head with its fields, built from the kept text on the first call. Precondition:
  // is_header_done(). Valid for the parser's lifetime.
  const boost::beast::http::response_header<>& head() const;

  // The body bytes the last parse step produced; empty when it produced none.
  std::string_view piece() const { return piece_; }
  // Forgets the last piece so that the next parse step may produce one.
  void clear_piece() { piece_ = {}; }

 private:
  enum class State : uint8_t {
    kHead,
    kLength,    // Content-Length bytes to go (remaining_)
    kUntilEof,  // everything until the connection ends
    kChunked,   // chunked_reader_ reads it
    kDone,
  };

  // Where one field's name and value sit in fields_text_.
  struct FieldSpan {
    uint32_t name_begin, name_size, value_begin, value_size;
  };

  ResponseParser(size_t header_limit, bool head_request)
      : header_limit_(header_limit), head_request_(head_request) {}

  // The head at the start of `bytes`; `used`: its size, the empty line included. need_more when
  // it is not all there (what was read of it is then left half-done: start afresh).
  boost::beast::error_code ParseHead(std::string_view bytes, size_t& used);
  // A line without its CRLF, known to hold no control character but tabs; a field's line is
  // followed by its CR in memory.
  boost::beast::error_code ParseStatusLine(std::string_view line);
  boost::beast::error_code ParseField(std::string_view line);
  // The field just read, when it frames the body or says how the connection ends.
  boost::beast::error_code OnFramingField(std::string_view name, std::string_view value);
  // Chooses the body's framing once the head is read.
  boost::beast::error_code StartBody();

  State state_ = State::kHead;
  size_t header_limit_ = 8192;
  bool head_request_ = false;
  bool got_some_ = false;
  unsigned status_ = 0;
  int version_ = 11;
  bool close_ = false;             // Connection: close
  bool keep_alive_token_ = false;  // Connection: keep-alive (what HTTP/1.0 needs to stay open)
  http::BodyFraming framing_;
  bool content_until_eof_ = false;  // the body runs to the end of the connection
  bool last_framing_ = false;       // the last field read framed the body or the connection
  uint64_t remaining_ = 0;
  http::ChunkedReader chunked_reader_;
  std::string fields_text_;  // the reason phrase, then every field's name and value
  size_t reason_size_ = 0;
  absl::InlinedVector<FieldSpan, 12> fields_;
  std::string_view piece_;
  mutable std::optional<boost::beast::http::response_header<>> head_;
};

}  // namespace llmesh::upstream::internal
