// The body of a 2xx answer to a stream request, before any provider-specific reading: SSE, as
// asked, cut into events by an SseParser; or one JSON document instead (an error envelope sent
// with a 2xx status, or a non-stream answer), collected and classified as a failure once it is
// complete. The first byte that is not whitespace tells the two apart; leading blank lines
// (DeepSeek sends some) decide nothing.
//
// Sits at the front of every stream decoder (openai/, anthropic/, gemini/): the decoder hands it
// each piece of the upstream body and reads the SSE events it dispatches.
//
// Threading: one per stream, used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/provider/common/sse.h"
#include "proxy/provider/failure.h"

namespace llmesh::provider {

class StreamBody {
 public:
  enum class Kind : uint8_t { kUnknown, kSse, kJson };

  // A body that is neither SSE nor a JSON document of at most this size is malformed.
  static constexpr size_t kMaxJsonBytes = size_t{1} << 20;

  // `json_arrays`: a JSON body may also be an array (OpenAI compatibles, Gemini); otherwise only
  // an object counts as JSON.
  explicit StreamBody(bool json_arrays) : json_arrays_(json_arrays) {}

  StreamBody(const StreamBody&) = delete;
  StreamBody& operator=(const StreamBody&) = delete;

  // Takes the next piece of the body (any split). SSE: calls `on_event` for every event it
  // completes, as SseParser::Feed does. Returns the failure this piece revealed, if any: a
  // JSON body classified (see EndJson), or kMalformed for an SSE event over
  // SseParser::kDefaultMaxEventBytes. A failure ends the body; later pieces are not read.
  std::optional<UpstreamFailure> Feed(std::string_view bytes, SseParser::EventSink on_event);

  Kind kind() const { return kind_; }

  // kJson: the body ended; the failure it stands for (never nullopt): the error envelope
  // MapStreamError finds, else kMalformed (not JSON after all, JSON that is no error, or over
  // kMaxJsonBytes).
  std::optional<UpstreamFailure> EndJson() { return FeedJson({}, /*at_end=*/true); }

  // SSE: the body ended; dispatches a last event whose closing blank line never came
  // (SseParser::Finish). Returns false if an event was over the size limit.
  bool EndSse(SseParser::EventSink on_event) { return parser_.Finish(on_event); }

 private:
  // nullopt while the JSON body may still be incomplete (never when `at_end`).
  std::optional<UpstreamFailure> FeedJson(std::string_view bytes, bool at_end);
  bool OpensJson(char c) const { return c == '{' || (json_arrays_ && c == '['); }
  bool ClosesJson(char c) const { return c == '}' || (json_arrays_ && c == ']'); }

  const bool json_arrays_;
  Kind kind_ = Kind::kUnknown;
  SseParser parser_;
  std::string json_;
};

}  // namespace llmesh::provider
