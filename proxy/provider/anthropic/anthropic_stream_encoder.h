// Renders canonical stream events as Anthropic Messages SSE (wire-formats §2.6) for an
// Anthropic client whose answer comes from a provider of another format (OpenAI, Gemini).
//
// Sits in the Anthropic codec's response sink (proxy/codec/anthropic_sink.h): every event the
// attempt's StreamDecoder produced is encoded at once and written to the client. The output is
// always the sequence @anthropic-ai/sdk's MessageStream expects (§6.6 "OpenAI chunks to
// Anthropic SSE"):
//   message_start (id from AnthropicMessageId, model, zero usage: the input count is not known
//   yet), then per content block content_block_start / content_block_delta... /
//   content_block_stop with blocks numbered 0, 1, ... (text → text_delta; each tool call → a
//   tool_use block with `input: {}` and input_json_delta fragments; reasoning is left out, as
//   a thinking block needs a signature only Anthropic can make),
//   then one message_delta (stop_reason from
//   StopReasonFromFinishReason, the full usage: input, cache and output tokens) and
//   message_stop.
// A new block opens whenever the kind of content changes (or another tool call starts); the
// open block is closed first. message_delta waits for End(), because canonical streams deliver
// kUsage after kFinish and the final usage belongs in it. End() also supplies whatever the
// upstream stream skipped: a message_start, the close of an open block, a message_delta (stop
// reason tool_use when tools were called, else end_turn). Argument fragments of a tool call
// whose block was already closed (upstreams that interleave parallel calls) are sent with that
// call's own block index, which the SDK's accumulator handles.
//
// Threading: one encoder per response, used by one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "proxy/provider/canonical.h"

namespace llmesh::provider {

class AnthropicStreamEncoder {
 public:
  // Appends the SSE events for `event` to `out` (possibly none). Ignored after End().
  void Encode(const StreamEvent& event, std::string& out);
  // Appends what completes the message: the open block's stop, message_delta and
  // message_stop. Further calls append nothing.
  void End(std::string& out);

 private:
  enum class BlockKind : uint8_t { kNone, kText, kToolUse };

  void EnsureStarted(std::string& out);
  // Closes the open block, if any, and opens one of `kind` (`call` names a tool_use block).
  void OpenBlock(BlockKind kind, const StreamEvent* call, std::string& out);
  void CloseBlock(std::string& out);
  // The block index of canonical tool call `tool_index`, if its block was opened.
  std::optional<uint32_t> ToolBlock(uint32_t tool_index) const;

  std::string id_ = "msg_llmesh";
  std::string model_;
  bool started_ = false;
  bool ended_ = false;
  BlockKind open_ = BlockKind::kNone;
  uint32_t open_index_ = 0;       // index of the open block
  uint32_t next_index_ = 0;       // index the next block gets
  uint32_t open_tool_index_ = 0;  // kToolUse: the canonical tool ordinal of the open block
  std::vector<std::pair<uint32_t, uint32_t>> tool_blocks_;  // tool ordinal → block index
  std::optional<FinishReason> finish_reason_;
  Usage usage_;
};

}  // namespace llmesh::provider
