// The HTTP/1.1 parser of one upstream response, shaped for the proxy's hot path.
//
// Internal to the upstream layer: Connection feeds it from its read buffer, Http1Exchange reads
// the status and the body from it. A successful answer is only ever looked at for its status and
// body, so the head's fields are kept as text and turned into Beast fields only when head() is
// first called (the failover layer does so for failed answers, to read their error and rate-limit
// headers). The body is handed out without copying, one piece per parse step, as a view of bytes
// still in the connection's read buffer (chunk framing removed); reading again invalidates it.
// Beast's basic_parser does the parsing, its limits and its framing rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/message.hpp>

#include "absl/container/inlined_vector.h"

namespace llmesh::upstream::internal {

class ResponseParser final : public boost::beast::http::basic_parser<false> {
 public:
  ResponseParser() = default;

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
  // Where one field's name and value sit in fields_text_.
  struct FieldSpan {
    uint32_t name_begin, name_size, value_begin, value_size;
  };

  using BeastView = boost::beast::string_view;

  void on_request_impl(boost::beast::http::verb, BeastView, BeastView, int, boost::beast::error_code&) override {}
  void on_response_impl(int code, BeastView reason, int version, boost::beast::error_code&) override;
  void on_field_impl(boost::beast::http::field, BeastView name, BeastView value, boost::beast::error_code&) override;
  void on_header_impl(boost::beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, boost::beast::error_code&) override {}
  std::size_t on_body_impl(BeastView body, boost::beast::error_code& ec) override { return Take(body, ec); }
  void on_chunk_header_impl(std::uint64_t, BeastView, boost::beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, BeastView body, boost::beast::error_code& ec) override {
    return Take(body, ec);
  }
  void on_finish_impl(boost::beast::error_code&) override {}

  // Takes at most one piece per parse step; a second one waits in the buffer (need_buffer, the
  // protocol of beast::http::buffer_body).
  std::size_t Take(BeastView body, boost::beast::error_code& ec);

  unsigned status_ = 0;
  int version_ = 11;
  std::string fields_text_;  // the reason phrase, then every field's name and value
  size_t reason_size_ = 0;
  absl::InlinedVector<FieldSpan, 12> fields_;
  std::string_view piece_;
  mutable std::optional<boost::beast::http::response_header<>> head_;
};

}  // namespace llmesh::upstream::internal
