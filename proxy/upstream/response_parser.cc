#include "proxy/upstream/response_parser.h"

#include <boost/beast/http/error.hpp>

namespace llmesh::upstream::internal {

namespace http = boost::beast::http;

void ResponseParser::on_response_impl(int code, BeastView reason, int version, boost::beast::error_code&) {
  status_ = static_cast<unsigned>(code);
  version_ = version;
  fields_text_.reserve(512);  // a typical provider head, in one allocation
  fields_text_.assign(reason.data(), reason.size());
  reason_size_ = reason.size();
}

void ResponseParser::on_field_impl(http::field, BeastView name, BeastView value, boost::beast::error_code&) {
  // The header limit (at most 64 KiB, set by the exchange) keeps every offset within 32 bits.
  const auto at = static_cast<uint32_t>(fields_text_.size());
  fields_text_.append(name.data(), name.size()).append(value.data(), value.size());
  fields_.push_back({at, static_cast<uint32_t>(name.size()), static_cast<uint32_t>(at + name.size()),
                     static_cast<uint32_t>(value.size())});
}

const http::response_header<>& ResponseParser::head() const {
  if (head_) return *head_;
  head_.emplace();
  head_->result(status_);
  head_->version(version_);
  const std::string_view text = fields_text_;
  head_->reason(BeastView(text.substr(0, reason_size_)));
  for (const FieldSpan& span : fields_) {
    head_->insert(BeastView(text.substr(span.name_begin, span.name_size)),
                  text.substr(span.value_begin, span.value_size));
  }
  return *head_;
}

std::size_t ResponseParser::Take(BeastView body, boost::beast::error_code& ec) {
  if (!piece_.empty()) {
    ec = http::error::need_buffer;
    return 0;
  }
  piece_ = std::string_view(body.data(), body.size());
  return body.size();
}

}  // namespace llmesh::upstream::internal
