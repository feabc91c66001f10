// Renders the fake provider's OpenAI bodies and SSE events (wire-formats.md §1) by string
// concatenation from pieces prepared once at startup: no JSON document is built per response.
//
// Threading: an OpenAiRenderer is immutable after construction and shared by all workers.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fakes/fake_provider/fake_options.h"

namespace llmesh::fakes {

// Appends `text` as the inside of a JSON string literal (no quotes).
void AppendJsonEscaped(std::string& out, std::string_view text);

// An OpenAI error body: {"error":{"message","type","param":null,"code"}}; empty code → null.
std::string OpenAiErrorBody(std::string_view message, std::string_view type, std::string_view code);

// Dimensions of every fake embedding vector.
inline constexpr size_t kEmbeddingDimensions = 8;

// The deterministic embedding of one input item (a string, or a token array's JSON text):
// component j is byte j of the item's FNV-1a hash mapped to [-1, 1], as a float32 like the
// real API's vectors.
std::array<float, kEmbeddingDimensions> EmbeddingVector(std::string_view item);

// How POST /v1/embeddings returns each vector (`encoding_format`).
enum class EmbeddingEncoding {
  kFloat,   // "float" or absent: a JSON array of numbers, each the shortest text that reads
            // back as the same float32
  kBase64,  // "base64": base64 (standard alphabet, padded) of the float32 little-endian bytes
};

// What one chat completion looks like; all views must outlive the renderer calls.
struct ChatCompletionShape {
  std::string_view id;     // "chatcmpl-..."
  int64_t created = 0;     // unix seconds
  std::string_view model;  // echoed from the request, unescaped
  int64_t chunks = 3;      // content pieces
  int64_t prompt_tokens = 1;
  bool include_usage = false;  // streams: every chunk has "usage":null plus a usage chunk
};

class OpenAiRenderer {
 public:
  explicit OpenAiRenderer(const FakeProviderOptions& options);

  // GET /v1/models body, rendered once.
  const std::string& models_body() const { return models_body_; }

  // The non-streaming chat.completion body.
  std::string ChatCompletion(const ChatCompletionShape& shape) const;

  // Stream events: role chunk, `chunks` content chunks, finish chunk, the usage chunk when
  // include_usage, then `data: [DONE]`. Each event is "data: ...\n\n".
  size_t StreamEventCount(const ChatCompletionShape& shape) const {
    return static_cast<size_t>(shape.chunks) + (shape.include_usage ? 4 : 3);
  }
  // Index of the first content event (content events are 1..chunks).
  static constexpr size_t kFirstContentEvent = 1;
  // Replaces `out` with event `index` (< StreamEventCount). `prefix` is StreamPrefix(shape).
  void StreamEvent(const ChatCompletionShape& shape, std::string_view prefix, size_t index,
                   std::string& out) const;
  // The part every chunk of one stream shares, rendered once per stream.
  std::string StreamPrefix(const ChatCompletionShape& shape) const;

  // The POST /v1/embeddings body: EmbeddingVector(item) for each item, in `encoding`.
  std::string Embeddings(std::string_view model, const std::vector<std::string_view>& items,
                         EmbeddingEncoding encoding, int64_t prompt_tokens) const;

 private:
  void AppendPiece(int64_t index, std::string& out) const;

  std::string escaped_name_;
  std::string models_body_;
};

}  // namespace llmesh::fakes
