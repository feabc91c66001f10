// Decodes one streamed OpenAI-format chat completion (OpenAI and compatibles) into the
// client's OpenAI SSE framing, and tells the failover layer when content has started.
//
// Sits under the FailoverExecutor's stream loop: every upstream read goes through Feed();
// `Progress::wire` is what the client receives once the attempt has committed. Each upstream
// event is re-emitted as `data: <original json>\n\n` (no re-serialisation; multi-line data
// keeps one `data:` line per line) so the client gets OpenAI framing whatever the upstream's
// line endings, and `data: [DONE]\n\n` ends it.
//
// Event rules:
//  - `: keep-alive` comments and empty data are dropped (never content).
//  - `{"error":...}` (any envelope, also `[{"error":...}]` and DashScope's flat frame) or an
//    `event: error` → failure via MapStreamError; non-JSON data → kMalformed.
//  - A chunk with empty or missing `choices` is never content: the usage chunk (`choices: []`
//    with `usage`) is recorded and forwarded only when the client asked for usage; any other
//    such chunk (Azure's leading `prompt_filter_results` chunk) is dropped, because clients
//    index `choices[0]` and the chunk means nothing to a provider-neutral client.
//  - Content = a non-empty `content`, `refusal`, `reasoning_content`/`reasoning` or
//    `tool_calls` delta, or a `finish_reason`. Reasoning counts: the client receives those
//    bytes, and a reasoning model may think for longer than the first-byte timeout.
//  - `finish_reason: insufficient_system_resource` (DeepSeek) → kOverloaded and Mistral's
//    `finish_reason: error` → kServerError, before or after content: the generation was cut,
//    so a clean end would be a silent truncation. The chunk is not forwarded.
//  - A body that starts with '{' or '[' is not SSE (an upstream that ignored `stream`, or
//    Gemini-compat's `[{"error":...}]` with status 200): it is buffered and reported as the
//    error it carries, else kMalformed.
//  - `finish_reason` "eos" / "eos_token" (Together) becomes "stop": only such a chunk is
//    re-serialised.
//  - Usage comes from `usage` (or Groq's `x_groq.usage`) on any chunk; the last one wins.
//  - Translated mode: kStart on the first chunk with choices (id, model), then the first
//    choice's reasoning, text (a refusal is text: it is what the model said) and tool-call
//    deltas (a call starts at a new index or a new id; a repeated id continues it), one kFinish (an unknown finish_reason is a
//    stop, or tool_calls when the answer called tools; [DONE] without any finish_reason adds
//    one), and kUsage at [DONE].
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

#include "proxy/provider/common/sse.h"
#include "proxy/provider/common/stream_body.h"
#include "proxy/provider/failure.h"
#include "proxy/provider/provider.h"

namespace llmesh::provider {

class OpenAiStreamDecoder final : public StreamDecoder {
 public:
  // `forward_usage`: the client asked for stream_options.include_usage. `translate`: the client
  // speaks another format, so chunks become canonical events (Progress::events) instead of
  // wire bytes; the same rules decide content, failures and the end.
  explicit OpenAiStreamDecoder(bool forward_usage, bool translate = false)
      : forward_usage_(forward_usage), translate_(translate) {}

  void Feed(std::string_view bytes, Progress& progress) override;
  std::optional<UpstreamFailure> Finish(Progress& progress) override;
  Usage usage() const override { return usage_; }

 private:
  // Returns false to stop parsing (terminator or failure).
  bool OnEvent(const SseEvent& event, Progress& progress);
  bool OnChunk(const SseEvent& event, Progress& progress);
  bool Fail(UpstreamFailure failure, Progress& progress);
  // Translated mode: the canonical events of one chunk.
  void Translate(const boost::json::object& chunk, Progress& progress);
  // Translated mode: the one kFinish event; `reason` nullopt when unknown or missing.
  void AppendFinish(std::optional<FinishReason> reason, Progress& progress);

  const bool forward_usage_;
  const bool translate_;
  bool started_ = false;   // translated: kStart emitted
  bool finished_ = false;  // translated: kFinish emitted
  bool tool_calls_seen_ = false;
  // Translated mode: the tool calls started so far, in start order (the position is the
  // canonical tool_index). DeepSeek and Qwen repeat a call's id on every delta, and some
  // compatibles send whole calls without an index, so a call starts on a new index or a new id.
  struct ToolSlot {
    uint32_t upstream_index;
    std::string id;
  };
  std::vector<ToolSlot> tool_slots_;
  StreamBody body_{/*json_arrays=*/true};
  bool content_ = false;
  bool done_ = false;
  std::optional<UpstreamFailure> failure_;
  Usage usage_;
  // Backing store for parsing one chunk without touching the heap.
  unsigned char scratch_[4096];
};

}  // namespace llmesh::provider
