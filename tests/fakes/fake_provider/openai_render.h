// Renders the fake provider's OpenAI bodies and SSE events (wire-formats.md §1) by string
// concatenation from pieces prepared once at startup: no JSON document is built per response.
//
// Threading: an OpenAiRenderer is immutable after construction and shared by all workers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fakes/fake_provider/fake_options.h"
#include "tests/fakes/fake_provider/fake_render.h"

namespace llmesh::fakes {

// An OpenAI error body: {"error":{"message","type","param":null,"code"}}; empty code → null.
std::string OpenAiErrorBody(std::string_view message, std::string_view type, std::string_view code);
// The same, appended to `out`.
void AppendOpenAiErrorBody(std::string_view message, std::string_view type, std::string_view code,
                           std::string& out);

// How POST /v1/embeddings returns each vector (`encoding_format`).
enum class EmbeddingEncoding {
  kFloat,   // "float" or absent: a JSON array of numbers, each the shortest text that reads
            // back as the same float32
  kBase64,  // "base64": base64 (standard alphabet, padded) of the float32 little-endian bytes
};

// What one chat completion looks like; all views and `tool` must outlive the renderer calls.
struct ChatCompletionShape {
  std::string_view id;     // "chatcmpl-..."
  int64_t created = 0;     // unix seconds
  std::string_view model;  // echoed from the request, unescaped
  int64_t chunks = 3;      // content pieces
  TokenCounts tokens;
  bool include_usage = false;  // streams: every chunk has "usage":null plus a usage chunk
  // Set: the answer is one call of this tool with id `call_id` instead of text; its
  // arguments stream as two fragments after the call's head.
  const ToolCallText* tool = nullptr;
  std::string_view call_id;  // "call_..."
  bool blocked = false;      // finish_reason content_filter, no content
  // Streams: a first chunk with `choices: []` and prompt_filter_results (Azure).
  bool empty_choices_chunk = false;
};

class OpenAiRenderer {
 public:
  explicit OpenAiRenderer(const FakeProviderOptions& options);

  // GET /v1/models body, rendered once.
  const std::string& models_body() const { return models_body_; }

  // The non-streaming chat.completion body.
  std::string ChatCompletion(const ChatCompletionShape& shape) const;

  // Stream events: the Azure empty-choices chunk when asked, role chunk (carrying the tool
  // call's head for a call), the content chunks (`chunks` pieces, or a call's two argument
  // fragments), finish chunk, the usage chunk when include_usage, then `data: [DONE]`. Each
  // event is "data: ...\n\n".
  static size_t ContentEventCount(const ChatCompletionShape& shape) {
    return shape.tool == nullptr ? static_cast<size_t>(shape.chunks) : 2;
  }
  static size_t FirstContentEvent(const ChatCompletionShape& shape) {
    return shape.empty_choices_chunk ? 2 : 1;
  }
  static size_t StreamEventCount(const ChatCompletionShape& shape) {
    return FirstContentEvent(shape) + ContentEventCount(shape) + (shape.include_usage ? 3 : 2);
  }
  // Replaces `out` with event `index` (< StreamEventCount). `prefix` is StreamPrefix(shape).
  void StreamEvent(const ChatCompletionShape& shape, std::string_view prefix, size_t index,
                   std::string& out) const;
  // The part every chunk of one stream shares, rendered once per stream.
  std::string StreamPrefix(const ChatCompletionShape& shape) const;

  // The POST /v1/embeddings body: EmbeddingVector(item) for each item, in `encoding`.
  std::string Embeddings(std::string_view model, const std::vector<std::string_view>& items,
                         EmbeddingEncoding encoding, int64_t prompt_tokens) const;

 private:
  // A tool call up to the opening quote of its arguments.
  void AppendToolCallHead(const ChatCompletionShape& shape, bool streamed, std::string& out) const;

  AnswerText text_;
  std::string models_body_;
};

}  // namespace llmesh::fakes
