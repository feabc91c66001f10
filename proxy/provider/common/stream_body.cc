#include "proxy/provider/common/stream_body.h"

#include <boost/json/value.hpp>

#include "absl/strings/str_cat.h"
#include "proxy/provider/common/error_mapping.h"
#include "proxy/provider/common/json_fields.h"
#include "proxy/provider/common/text.h"

namespace llmesh::provider {

std::optional<UpstreamFailure> StreamBody::Feed(std::string_view bytes, SseParser::EventSink on_event) {
  if (kind_ == Kind::kUnknown) {
    bytes = StripLeadingWhitespace(bytes);
    if (bytes.empty()) return std::nullopt;
    kind_ = OpensJson(bytes.front()) ? Kind::kJson : Kind::kSse;
  }
  if (kind_ == Kind::kJson) return FeedJson(bytes, /*at_end=*/false);
  if (parser_.Feed(bytes, on_event)) return std::nullopt;
  return InStreamFailure(FailureKind::kMalformed,
                         absl::StrCat("upstream stream event exceeds ", SseParser::kDefaultMaxEventBytes, " bytes"));
}

std::optional<UpstreamFailure> StreamBody::FeedJson(std::string_view bytes, bool at_end) {
  if (json_.size() + bytes.size() > kMaxJsonBytes) {
    return InStreamFailure(FailureKind::kMalformed,
                           "upstream answered a stream request with an oversized non-SSE body");
  }
  json_.append(bytes);
  const std::string_view text = StripTrailingWhitespace(json_);
  // Only a body that could be complete is worth a parse before the end.
  if (!at_end && (text.empty() || !ClosesJson(text.back()))) return std::nullopt;
  boost::json::value value;
  if (!ParseJson(text, value)) {
    if (!at_end) return std::nullopt;
    return InStreamFailure(FailureKind::kMalformed, "upstream answered a stream request with a body that is not SSE");
  }
  if (std::optional<UpstreamFailure> error = MapStreamError(value)) return error;
  return InStreamFailure(FailureKind::kMalformed, "upstream answered a stream request with JSON instead of SSE");
}

}  // namespace llmesh::provider
