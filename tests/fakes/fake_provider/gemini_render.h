// Renders the fake provider's Gemini bodies, stream chunks and errors (wire-formats.md §3) by
// string concatenation from pieces prepared once at startup.
//
// Threading: a GeminiRenderer is immutable after construction and shared by all workers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fakes/fake_provider/fake_options.h"
#include "tests/fakes/fake_provider/fake_render.h"

namespace llmesh::fakes {

// A google.rpc.Status error body: {"error":{"code","message","status","details"?}}. A 429
// carries QuotaFailure (quotaId `reason`) and RetryInfo (retryDelay `retry_after` seconds,
// "1s" when empty); another status an ErrorInfo when `reason` is not empty.
void AppendGeminiErrorBody(int code, std::string_view message, std::string_view status,
                           std::string_view reason, std::string_view retry_after,
                           std::string& out);

// What one GenerateContentResponse looks like; views and `tool` must outlive the calls.
struct GenerateShape {
  std::string_view response_id;
  std::string_view model;  // from the path, unescaped
  int64_t pieces = 3;
  TokenCounts tokens;
  const ToolCallText* tool = nullptr;  // set: one functionCall part (no id) instead of text
  bool blocked = false;                // promptFeedback.blockReason SAFETY, no candidates
  bool sse = true;  // streams: `data:` events (CRLF-separated) or one JSON array
};

class GeminiRenderer {
 public:
  explicit GeminiRenderer(const FakeProviderOptions& options);

  // GET /v1beta/models body, rendered once.
  const std::string& models_body() const { return models_body_; }

  // The :generateContent body.
  std::string Response(const GenerateShape& shape) const;

  // Stream events: one chunk per piece (at least one), or a single chunk with the whole
  // functionCall, or the single blocked response; only the last has finishReason STOP and
  // the full usage. SSE: "data: JSON\r\n\r\n" each, no terminator; array: "[" before the
  // first, ",\r\n" between, "]" after the last.
  static size_t StreamEventCount(const GenerateShape& shape) {
    if (shape.blocked || shape.tool != nullptr || shape.pieces <= 0) return 1;
    return static_cast<size_t>(shape.pieces);
  }
  void StreamEvent(const GenerateShape& shape, size_t index, std::string& out) const;
  // Replaces `out` with the element after `sent` events that carries `error_body`.
  static void ErrorEvent(const GenerateShape& shape, size_t sent, std::string_view error_body,
                         std::string& out);
  // Replaces `out` with a first event whose JSON is cut short.
  static void MalformedEvent(const GenerateShape& shape, std::string& out);

  // The :batchEmbedContents body ({"embeddings":[{"values":[...]}]}) or, `single`, the
  // :embedContent body ({"embedding":{"values":[...]}}); EmbeddingVector of each text.
  static std::string Embeddings(const std::vector<std::string>& texts, bool single);

 private:
  // The response object (no framing). `index` < 0: the whole non-streamed answer.
  void AppendResponse(const GenerateShape& shape, int64_t index, std::string& out) const;

  AnswerText text_;
  std::string models_body_;
};

}  // namespace llmesh::fakes
