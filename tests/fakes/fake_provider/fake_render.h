// Rendering helpers every flavor of the fake provider shares: JSON string escaping, the
// deterministic answer text (content pieces, prepared once at startup), a tool call's text,
// token counts, the hash-derived embedding vectors and timestamp formatting. Flavor renderers
// (openai_render.h, anthropic_render.h, gemini_render.h) concatenate these into bodies.
//
// Threading: free functions are pure; an AnswerText is immutable after construction and shared
// by all workers; a ToolCallText belongs to one request.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmesh::fakes {

// Appends `text` as the inside of a JSON string literal (no quotes).
void AppendJsonEscaped(std::string& out, std::string_view text);

// Documented approximation of every flavor: one prompt token per 4 request body bytes, at
// least 1.
inline int64_t PromptTokens(size_t body_bytes) {
  return std::max<int64_t>(1, static_cast<int64_t>(body_bytes / 4));
}

// The fake's answer text for one `--name`: content piece i is "<name>-<i> ". Pieces below
// kPreparedPieces are rendered once here, so answering copies bytes instead of formatting
// numbers.
class AnswerText {
 public:
  static constexpr int64_t kPreparedPieces = 64;

  explicit AnswerText(std::string_view name);

  // The name, JSON-escaped.
  std::string_view escaped_name() const { return escaped_name_; }
  // Appends piece `index` (>= 0), JSON-escaped.
  void AppendPiece(int64_t index, std::string& out) const;
  // Appends pieces 0..count-1, JSON-escaped: the whole text of a non-streamed answer.
  void AppendPieces(int64_t count, std::string& out) const;
  // An upper bound of the bytes AppendPieces(count) adds, for reserve().
  size_t PiecesSizeBound(int64_t count) const {
    return static_cast<size_t>(count) * (escaped_name_.size() + 22);
  }

 private:
  std::string escaped_name_;
  std::string prepared_;                             // pieces 0..kPreparedPieces-1
  std::array<uint32_t, kPreparedPieces + 1> ends_{};  // piece i is [ends_[i], ends_[i+1])
};

// The text of one scripted tool call, rendered once per request that answers with a call.
struct ToolCallText {
  // `arguments` is a JSON object's text.
  ToolCallText(std::string_view name, std::string_view arguments);

  std::string escaped_name;
  // The arguments as JSON text (Anthropic's `input`, Gemini's `args`).
  std::string arguments;
  // The same escaped to sit inside a JSON string (OpenAI's `arguments`).
  std::string arguments_literal;
  // The arguments text cut in two near its middle (never inside a UTF-8 sequence), each half
  // escaped to sit inside a JSON string: the fragments of a streamed call. A cut inside a
  // token is what stream consumers get wrong when they parse fragments on their own.
  std::array<std::string, 2> fragments;
};

// The tokens an answer reports; each flavor maps them onto its own usage fields.
struct TokenCounts {
  int64_t prompt = 1;     // every input token, cached ones included
  int64_t cached = 0;     // of `prompt`, read from a cache
  int64_t output = 0;     // visible output: one per text piece, one for a tool call
  int64_t reasoning = 0;  // thinking tokens, on top of `output`
};

// Dimensions of every fake embedding vector.
inline constexpr size_t kEmbeddingDimensions = 8;

// The deterministic embedding of one input item (a text, or a token array's JSON text):
// component j is byte j of the item's FNV-1a hash mapped to [-1, 1], as a float32 like the
// real APIs' vectors. Every flavor embeds the same text to the same vector.
std::array<float, kEmbeddingDimensions> EmbeddingVector(std::string_view item);

// Appends `vector` as a JSON array of numbers, each the shortest text that reads back as the
// same float32.
void AppendFloatArray(const std::array<float, kEmbeddingDimensions>& vector, std::string& out);

// Writes `unix_seconds` as an RFC 3339 UTC timestamp ("2026-01-02T03:04:05Z", 20 bytes) into
// `out` and returns the view of it.
std::string_view FormatRfc3339(int64_t unix_seconds, std::array<char, 24>& out);

}  // namespace llmesh::fakes
