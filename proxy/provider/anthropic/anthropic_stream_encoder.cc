#include "proxy/provider/anthropic/anthropic_stream_encoder.h"

#include <utility>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "absl/strings/str_cat.h"
#include "proxy/provider/anthropic/anthropic_mapping.h"
#include "proxy/provider/anthropic/anthropic_response.h"
#include "proxy/provider/common/sse.h"

namespace llmesh::provider {
namespace {

namespace json = boost::json;

std::string Quoted(std::string_view text) { return json::serialize(json::string_view(text.data(), text.size())); }

}  // namespace

void AnthropicStreamEncoder::EnsureStarted(std::string& out) {
  if (started_) return;
  started_ = true;
  AppendSseEvent(out, "message_start",
                 absl::StrCat(R"({"type":"message_start","message":{"id":)", Quoted(id_),
                              R"(,"type":"message","role":"assistant","model":)", Quoted(model_),
                              R"(,"content":[],"stop_reason":null,"stop_sequence":null,"usage":)",
                              json::serialize(AnthropicUsageJson(Usage{})), "}}"));
}

void AnthropicStreamEncoder::CloseBlock(std::string& out) {
  if (open_ == BlockKind::kNone) return;
  AppendSseEvent(out, "content_block_stop", absl::StrCat(R"({"type":"content_block_stop","index":)", open_index_, "}"));
  open_ = BlockKind::kNone;
}

void AnthropicStreamEncoder::OpenBlock(BlockKind kind, const StreamEvent* call, std::string& out) {
  CloseBlock(out);
  open_ = kind;
  open_index_ = next_index_++;
  std::string block;
  switch (kind) {
    case BlockKind::kText:
      block = R"({"type":"text","text":""})";
      break;
    case BlockKind::kToolUse:
      open_tool_index_ = call->tool_index;
      tool_blocks_.emplace_back(call->tool_index, open_index_);
      block = absl::StrCat(R"({"type":"tool_use","id":)", Quoted(call->id), R"(,"name":)", Quoted(call->name),
                           R"(,"input":{}})");
      break;
    case BlockKind::kNone:
      break;
  }
  AppendSseEvent(
      out, "content_block_start",
      absl::StrCat(R"({"type":"content_block_start","index":)", open_index_, R"(,"content_block":)", block, "}"));
}

std::optional<uint32_t> AnthropicStreamEncoder::ToolBlock(uint32_t tool_index) const {
  for (const auto& [tool, block] : tool_blocks_) {
    if (tool == tool_index) return block;
  }
  return std::nullopt;
}

void AnthropicStreamEncoder::Encode(const StreamEvent& event, std::string& out) {
  if (ended_) return;
  switch (event.kind) {
    case StreamEvent::Kind::kStart:
      if (started_) return;
      id_ = AnthropicMessageId(event.id.empty() ? std::string_view("llmesh") : std::string_view(event.id));
      model_ = event.name;
      EnsureStarted(out);
      return;
    case StreamEvent::Kind::kText:
      if (event.text.empty()) return;
      EnsureStarted(out);
      if (open_ != BlockKind::kText) OpenBlock(BlockKind::kText, nullptr, out);
      AppendSseEvent(out, "content_block_delta",
                     absl::StrCat(R"({"type":"content_block_delta","index":)", open_index_,
                                  R"(,"delta":{"type":"text_delta","text":)", Quoted(event.text), "}}"));
      return;
    case StreamEvent::Kind::kReasoning:
      // A thinking block needs Anthropic's signature, which a translated answer cannot have;
      // a client sending an unsigned block back would be refused (and RenderAnthropicResponse
      // leaves reasoning out of whole answers for the same reason).
      return;
    case StreamEvent::Kind::kToolCallStart:
      EnsureStarted(out);
      OpenBlock(BlockKind::kToolUse, &event, out);
      return;
    case StreamEvent::Kind::kToolCallArguments: {
      if (event.text.empty()) return;
      std::optional<uint32_t> index;
      if (open_ == BlockKind::kToolUse && open_tool_index_ == event.tool_index) {
        index = open_index_;
      } else {
        index = ToolBlock(event.tool_index);
      }
      // Fragments of a call that never started have no block to go to.
      if (!index) return;
      AppendSseEvent(out, "content_block_delta",
                     absl::StrCat(R"({"type":"content_block_delta","index":)", *index,
                                  R"(,"delta":{"type":"input_json_delta","partial_json":)", Quoted(event.text), "}}"));
      return;
    }
    case StreamEvent::Kind::kFinish:
      EnsureStarted(out);
      CloseBlock(out);
      if (!finish_reason_) finish_reason_ = event.finish_reason;
      usage_ = event.usage;
      return;
    case StreamEvent::Kind::kUsage:
      usage_ = event.usage;
      return;
  }
}

void AnthropicStreamEncoder::End(std::string& out) {
  if (ended_) return;
  EnsureStarted(out);
  CloseBlock(out);
  ended_ = true;
  const FinishReason reason =
      finish_reason_.value_or(tool_blocks_.empty() ? FinishReason::kStop : FinishReason::kToolCalls);
  const std::string_view stop_reason = StopReasonFromFinishReason(reason, /*stop_sequence_matched=*/false);
  AppendSseEvent(out, "message_delta",
                 absl::StrCat(R"({"type":"message_delta","delta":{"stop_reason":)", Quoted(stop_reason),
                              R"(,"stop_sequence":null},"usage":)", json::serialize(AnthropicUsageJson(usage_)), "}"));
  AppendSseEvent(out, "message_stop", R"({"type":"message_stop"})");
}

}  // namespace llmesh::provider
