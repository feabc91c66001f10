// Decodes one streamed Anthropic Messages answer (wire-formats §2.6) and tells the failover
// layer when content has started.
//
// Sits under the FailoverExecutor's stream loop: every upstream read goes through Feed().
// Two modes:
//  - passthrough (the client speaks Anthropic): every upstream event is re-emitted whole into
//    Progress::wire as `event: <name>\ndata: <original json>\n\n` (no re-serialisation; ping and
//    unknown event types included, since Anthropic clients ignore what they do not know);
//  - translate (the client speaks another format): the events become canonical StreamEvents in
//    Progress::events (canonical.h).
//
// Event rules (both modes):
//  - The SSE `event:` name decides, else the JSON `type`. Every data payload must be a JSON
//    object; anything else (a truncated or garbled event) is kMalformed.
//  - `error` (`event: error` or a payload of type error) → failure via MapStreamError, e.g.
//    overloaded_error → kOverloaded; the error event itself is not forwarded.
//  - Content = a tool_use content_block_start, a content_block_delta with a non-empty payload
//    (text, partial_json, thinking, signature, citation), or a message_delta with a stop_reason.
//    message_start, text/thinking block starts, block stops and ping are not content.
//  - `message_stop` ends the stream (Progress::done); input after it is ignored. A body that
//    ends without it is kReset at Finish().
//  - A body that starts with '{' is not SSE (an upstream that ignored `stream`, or an error
//    envelope with status 200): it is buffered and reported as the error it carries, else as
//    kMalformed.
//  - Usage: message_start's `message.usage` merged with every message_delta's cumulative
//    `usage` (CanonicalUsage: prompt tokens include cache reads and writes).
//
// Translate mode: message_start → kStart (id, model); text blocks and text_delta → kText;
// thinking blocks and thinking_delta → kReasoning; a tool_use block start → kToolCallStart with
// the next tool ordinal (0, 1, ..., not the block index), its input_json_delta fragments →
// kToolCallArguments (empty ones skipped); the first message_delta with a stop_reason → kFinish
// (FinishReasonFromStopReason); message_stop → kFinish when none came yet (tool_calls when the
// answer called tools, else stop), then kUsage. ping, signature/citation deltas, block stops,
// redacted_thinking and server-tool blocks, and unknown event types produce nothing.
//
// Threading: one decoder per attempt, used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "proxy/provider/anthropic/anthropic_mapping.h"
#include "proxy/provider/common/sse.h"
#include "proxy/provider/common/stream_body.h"
#include "proxy/provider/failure.h"
#include "proxy/provider/provider.h"

namespace llmesh::provider {

class AnthropicStreamDecoder final : public StreamDecoder {
 public:
  // `translate`: the client speaks another format, so events become canonical StreamEvents
  // (Progress::events) instead of wire bytes; the same rules decide content, failures and the
  // end.
  explicit AnthropicStreamDecoder(bool translate) : translate_(translate) {}

  void Feed(std::string_view bytes, Progress& progress) override;
  std::optional<UpstreamFailure> Finish(Progress& progress) override;
  Usage usage() const override { return CanonicalUsage(usage_); }

 private:
  enum class BlockKind : uint8_t { kText, kThinking, kToolUse, kOther };
  struct Block {
    uint64_t index = 0;      // Anthropic's content block index
    BlockKind kind = BlockKind::kOther;
    uint32_t tool_index = 0;  // kToolUse: the canonical tool ordinal
  };

  // Returns false to stop parsing (terminator or failure).
  bool OnEvent(const SseEvent& event, Progress& progress);
  bool Fail(UpstreamFailure failure, Progress& progress);
  // Translate mode: the canonical events of one event of type `type`.
  void Translate(std::string_view type, const boost::json::object& event, Progress& progress);
  void OnBlockStart(const boost::json::object& event, Progress& progress);
  void OnBlockDelta(const boost::json::object& event, Progress& progress);
  void AppendStart(std::string_view id, std::string_view model, Progress& progress);
  void AppendFinish(std::optional<FinishReason> reason, Progress& progress);
  const Block* FindBlock(uint64_t index) const;

  const bool translate_;
  StreamBody body_{/*json_arrays=*/false};
  bool content_ = false;
  bool done_ = false;
  std::optional<UpstreamFailure> failure_;
  AnthropicUsage usage_;
  // Translate mode.
  bool started_ = false;
  bool finished_ = false;
  uint32_t next_tool_ = 0;
  std::vector<Block> blocks_;  // the blocks started so far; a message has few
};

}  // namespace llmesh::provider
