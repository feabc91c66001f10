// Renders the fake provider's Anthropic Messages bodies and SSE events (wire-formats.md §2) by
// string concatenation from pieces prepared once at startup.
//
// Threading: an AnthropicRenderer is immutable after construction and shared by all workers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fakes/fake_provider/fake_options.h"
#include "tests/fakes/fake_provider/fake_render.h"

namespace llmesh::fakes {

// {"type":"error","error":{"type","message"}} plus "request_id" when `request_id` is not empty.
void AppendAnthropicErrorBody(std::string_view type, std::string_view message,
                              std::string_view request_id, std::string& out);

// What one message looks like; views and `tool` must outlive the renderer calls.
struct MessageShape {
  std::string_view id_hex;  // the message is "msg_<id_hex>", a tool_use block "toolu_<id_hex>"
  std::string_view model;   // echoed from the request, unescaped
  int64_t pieces = 3;
  TokenCounts tokens;
  const ToolCallText* tool = nullptr;  // set: one tool_use block instead of text
  bool blocked = false;                // stop_reason refusal, empty text
};

class AnthropicRenderer {
 public:
  explicit AnthropicRenderer(const FakeProviderOptions& options);

  // GET /v1/models body, rendered once.
  const std::string& models_body() const { return models_body_; }

  // The non-streaming message body.
  std::string Message(const MessageShape& shape) const;

  // Stream events: message_start, content_block_start, ping, the content deltas (one
  // text_delta per piece, or a tool_use block's input_json_delta fragments: "" then the two
  // halves of its arguments), content_block_stop, message_delta (stop_reason, cumulative
  // usage), message_stop. Each event is "event: NAME\ndata: JSON\n\n".
  static constexpr size_t kFirstContentEvent = 3;
  static size_t ContentEventCount(const MessageShape& shape) {
    return shape.tool == nullptr ? static_cast<size_t>(shape.pieces) : 3;
  }
  static size_t StreamEventCount(const MessageShape& shape) {
    return kFirstContentEvent + ContentEventCount(shape) + 3;
  }
  // Replaces `out` with event `index` (< StreamEventCount).
  void StreamEvent(const MessageShape& shape, size_t index, std::string& out) const;
  // Replaces `out` with a message_start event whose JSON is cut short.
  static void MalformedEvent(const MessageShape& shape, std::string& out);
  // Replaces `out` with an `event: error` carrying `type` and `message`.
  static void ErrorEvent(std::string_view type, std::string_view message, std::string& out);

 private:
  AnswerText text_;
  std::string models_body_;
};

}  // namespace llmesh::fakes
