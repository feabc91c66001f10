// Decodes one streamed Gemini answer (`:streamGenerateContent?alt=sse`, wire-formats §3.4) into
// canonical stream events, and tells the failover layer when content has started.
//
// Sits under the FailoverExecutor's stream loop: every upstream read goes through Feed(); the
// events in `Progress::events` are rendered by the client's codec. No client speaks Gemini, so
// the answer is always translated (Progress::wire stays empty).
//
// Each SSE `data:` event is a whole GenerateContentResponse holding only the new parts; the
// stream has no terminator and ends when the connection closes. Event rules:
//  - kStart first, once, from the first response: id = responseId (synthesized when absent),
//    name = modelVersion. Synthesized tool-call ids hash that responseId (gemini_call_ids.h),
//    so every call of the stream gets a stable, distinct id.
//  - First candidate's parts: text → kText, text with `thought: true` → kReasoning, each
//    functionCall (Gemini sends them whole) → kToolCallStart (tool_index 0, 1, ... over the
//    stream) and one kToolCallArguments with the whole `args` JSON ("{}" without them).
//  - finishReason is mapped like the non-stream answer (gemini_response.h; STOP after a
//    function call is tool_calls) and remembered; content after it is dropped, usage after it
//    is still read.
//  - usageMetadata may come on every response; the last one wins.
//  - The connection close is Gemini's end of stream: Finish() then appends kFinish (with the
//    last usage) and kUsage, once each, when a finishReason was seen, so both carry the
//    authoritative usage and an OpenAI client that asked for usage gets one final chunk.
//  - A blocked prompt (promptFeedback.blockReason, no candidates) finishes as content_filter
//    with no content, the same outcome as the non-stream answer (gemini_response.h says why):
//    the provider answered 200 and the client sees its policy verdict instead of a retried
//    error.
//  - `{"error":...}` (also `[{"error":...}]`) → failure via MapStreamError, whether before
//    content (the failover layer may retry elsewhere) or after it (it ends the client's stream
//    with an error). Data that is not JSON, or JSON that is not an object → kMalformed.
//    Unknown fields and part kinds (executableCode, inlineData, thoughtSignature) are ignored.
//  - A body that starts with '{' or '[' is not SSE (an error answered with status 200, or a
//    stream requested without alt=sse): it is buffered and reported as the error it carries,
//    else kMalformed.
//  - Finish() returns kReset when the connection closed before any finishReason.
// Content (Progress::content) = a non-empty text or thought part, a function call, or a
// finishReason / block reason.
//
// Threading: one decoder per attempt, used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "proxy/provider/common/sse.h"
#include "proxy/provider/common/stream_body.h"
#include "proxy/provider/failure.h"
#include "proxy/provider/provider.h"

namespace llmesh::provider {

class GeminiStreamDecoder final : public StreamDecoder {
 public:
  GeminiStreamDecoder() = default;

  void Feed(std::string_view bytes, Progress& progress) override;
  std::optional<UpstreamFailure> Finish(Progress& progress) override;
  Usage usage() const override { return usage_; }

 private:
  // Returns false to stop parsing (failure).
  bool OnEvent(const SseEvent& event, Progress& progress);
  bool Fail(UpstreamFailure failure, Progress& progress);
  // The canonical events of one GenerateContentResponse.
  void Translate(const boost::json::object& response, Progress& progress);
  void SetFinish(FinishReason reason);
  // Handles a non-SSE body; returns true once it has been classified (failure_ set).
  bool FeedJsonBody(std::string_view bytes, bool at_end);

  StreamBody body_{/*json_arrays=*/true};
  bool started_ = false;
  bool finished_ = false;  // a finishReason (or a prompt block) was seen
  FinishReason finish_reason_ = FinishReason::kStop;
  bool ended_ = false;     // Finish() completed the stream
  bool content_ = false;
  bool called_functions_ = false;
  uint32_t tool_count_ = 0;
  uint64_t call_id_seed_ = 0;
  std::optional<UpstreamFailure> failure_;
  Usage usage_;
  // Backing store for parsing one response without touching the heap in the common case.
  unsigned char scratch_[4096];
};

}  // namespace llmesh::provider
