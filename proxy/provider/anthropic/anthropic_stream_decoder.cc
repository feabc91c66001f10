#include "proxy/provider/anthropic/anthropic_stream_decoder.h"

#include <utility>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "proxy/provider/common/error_mapping.h"
#include "proxy/provider/common/json_fields.h"

namespace llmesh::provider {
namespace {

namespace json = boost::json;

bool IsContent(std::string_view type, const json::object& event) {
  if (type == "content_block_start") {
    const json::object* block = ObjectField(event, "content_block");
    return block != nullptr && StringField(*block, "type") == "tool_use";
  }
  if (type == "content_block_delta") {
    const json::object* delta = ObjectField(event, "delta");
    if (delta == nullptr) return false;
    for (std::string_view key : {"text", "partial_json", "thinking", "signature"}) {
      if (!StringField(*delta, key).empty()) return true;
    }
    return delta->contains("citation");
  }
  if (type == "message_delta") {
    const json::object* delta = ObjectField(event, "delta");
    return delta != nullptr && !StringField(*delta, "stop_reason").empty();
  }
  return false;
}

}  // namespace

void AnthropicStreamDecoder::Feed(std::string_view bytes, Progress& progress) {
  if (done_ || failure_) return;
  std::optional<UpstreamFailure> failure =
      body_.Feed(bytes, [&](const SseEvent& event) { return OnEvent(event, progress); });
  if (failure && !failure_) Fail(*std::move(failure), progress);
  if (content_) progress.content = true;
}

std::optional<UpstreamFailure> AnthropicStreamDecoder::Finish(Progress& /*progress*/) {
  if (failure_) return failure_;
  if (done_) return std::nullopt;
  if (body_.kind() == StreamBody::Kind::kJson) {
    failure_ = body_.EndJson();
    return failure_;
  }
  failure_ = InStreamFailure(FailureKind::kReset, "upstream stream ended before message_stop");
  return failure_;
}

bool AnthropicStreamDecoder::Fail(UpstreamFailure failure, Progress& progress) {
  failure_ = std::move(failure);
  progress.failure = failure_;
  return false;
}

bool AnthropicStreamDecoder::OnEvent(const SseEvent& event, Progress& progress) {
  unsigned char scratch[4096];
  json::monotonic_resource resource(scratch, sizeof scratch);
  json::value value(&resource);
  const bool parsed = ParseJson(event.data, value) && value.is_object();
  std::string_view type = event.event;
  if (type.empty() && parsed) type = StringField(value.get_object(), "type");

  if (type == "error") {
    if (parsed) {
      if (std::optional<UpstreamFailure> error = MapStreamError(value)) {
        return Fail(*std::move(error), progress);
      }
    }
    std::string message = TruncateUtf8(event.data, kMaxErrorMessageBytes);
    if (message.empty()) message = "upstream sent an error event";
    return Fail(InStreamFailure(FailureKind::kServerError, std::move(message)), progress);
  }
  if (!parsed) {
    return Fail(InStreamFailure(FailureKind::kMalformed,
                              "upstream stream carried an event that is not a JSON object"),
                progress);
  }
  const json::object& object = value.get_object();
  if (type == "message_start") {
    if (const json::object* message = ObjectField(object, "message")) {
      if (const json::object* usage = ObjectField(*message, "usage")) MergeAnthropicUsage(*usage, usage_);
    }
  } else if (type == "message_delta") {
    if (const json::object* usage = ObjectField(object, "usage")) MergeAnthropicUsage(*usage, usage_);
  }
  if (IsContent(type, object)) {
    content_ = true;
    progress.content = true;
  }
  const bool stop = type == "message_stop";
  if (translate_) {
    Translate(type, object, progress);
  } else {
    AppendSseEvent(progress.wire, type, event.data);
  }
  if (stop) {
    done_ = true;
    progress.done = true;
    return false;
  }
  return true;
}

void AnthropicStreamDecoder::Translate(std::string_view type, const json::object& event,
                                       Progress& progress) {
  if (type == "message_start") {
    const json::object* message = ObjectField(event, "message");
    if (message == nullptr) {
      AppendStart({}, {}, progress);
    } else {
      AppendStart(StringField(*message, "id"), StringField(*message, "model"), progress);
    }
  } else if (type == "content_block_start") {
    OnBlockStart(event, progress);
  } else if (type == "content_block_delta") {
    OnBlockDelta(event, progress);
  } else if (type == "message_delta") {
    const json::object* delta = ObjectField(event, "delta");
    const std::string_view stop_reason = delta == nullptr ? std::string_view() : StringField(*delta, "stop_reason");
    if (!stop_reason.empty() && !finished_) AppendFinish(FinishReasonFromStopReason(stop_reason), progress);
  } else if (type == "message_stop") {
    // Canonical streams always start and finish, even when the upstream skipped a step.
    AppendStart({}, {}, progress);
    if (!finished_) AppendFinish(std::nullopt, progress);
    StreamEvent usage = MakeStreamEvent(StreamEvent::Kind::kUsage);
    usage.usage = CanonicalUsage(usage_);
    progress.events.push_back(std::move(usage));
  }
  // ping, content_block_stop and unknown event types carry nothing canonical.
}

void AnthropicStreamDecoder::OnBlockStart(const json::object& event, Progress& progress) {
  const json::object* block = ObjectField(event, "content_block");
  if (block == nullptr) return;
  AppendStart({}, {}, progress);
  Block entry;
  entry.index = UintField(event, "index").value_or(0);
  const std::string_view type = StringField(*block, "type");
  if (type == "text") {
    entry.kind = BlockKind::kText;
    if (std::string_view text = StringField(*block, "text"); !text.empty()) {
      progress.events.push_back(MakeStreamEvent(StreamEvent::Kind::kText, text));
    }
  } else if (type == "thinking") {
    entry.kind = BlockKind::kThinking;
    if (std::string_view thinking = StringField(*block, "thinking"); !thinking.empty()) {
      progress.events.push_back(MakeStreamEvent(StreamEvent::Kind::kReasoning, thinking));
    }
  } else if (type == "tool_use") {
    entry.kind = BlockKind::kToolUse;
    entry.tool_index = next_tool_++;
    StreamEvent start = MakeStreamEvent(StreamEvent::Kind::kToolCallStart);
    start.tool_index = entry.tool_index;
    start.id = std::string(StringField(*block, "id"));
    start.name = std::string(StringField(*block, "name"));
    progress.events.push_back(std::move(start));
    // The API sends `input: {}` and the arguments as deltas; an input given whole is kept.
    if (const json::object* input = ObjectField(*block, "input"); input != nullptr && !input->empty()) {
      StreamEvent arguments = MakeStreamEvent(StreamEvent::Kind::kToolCallArguments, json::serialize(*input));
      arguments.tool_index = entry.tool_index;
      progress.events.push_back(std::move(arguments));
    }
  }
  blocks_.push_back(entry);
}

void AnthropicStreamDecoder::OnBlockDelta(const json::object& event, Progress& progress) {
  const json::object* delta = ObjectField(event, "delta");
  if (delta == nullptr) return;
  const std::string_view type = StringField(*delta, "type");
  if (type == "text_delta") {
    if (std::string_view text = StringField(*delta, "text"); !text.empty()) {
      AppendStart({}, {}, progress);
      progress.events.push_back(MakeStreamEvent(StreamEvent::Kind::kText, text));
    }
  } else if (type == "thinking_delta") {
    if (std::string_view thinking = StringField(*delta, "thinking"); !thinking.empty()) {
      AppendStart({}, {}, progress);
      progress.events.push_back(MakeStreamEvent(StreamEvent::Kind::kReasoning, thinking));
    }
  } else if (type == "input_json_delta") {
    const std::string_view fragment = StringField(*delta, "partial_json");
    const Block* block = FindBlock(UintField(event, "index").value_or(0));
    // A fragment of a block that never started as tool_use has no call to belong to.
    if (fragment.empty() || block == nullptr || block->kind != BlockKind::kToolUse) return;
    StreamEvent arguments = MakeStreamEvent(StreamEvent::Kind::kToolCallArguments, fragment);
    arguments.tool_index = block->tool_index;
    progress.events.push_back(std::move(arguments));
  }
}

void AnthropicStreamDecoder::AppendStart(std::string_view id, std::string_view model, Progress& progress) {
  if (started_) return;
  started_ = true;
  StreamEvent start = MakeStreamEvent(StreamEvent::Kind::kStart);
  start.id = std::string(id);
  start.name = std::string(model);
  progress.events.push_back(std::move(start));
}

void AnthropicStreamDecoder::AppendFinish(std::optional<FinishReason> reason, Progress& progress) {
  AppendStart({}, {}, progress);
  finished_ = true;
  StreamEvent event = MakeStreamEvent(StreamEvent::Kind::kFinish);
  event.finish_reason = reason.value_or(next_tool_ > 0 ? FinishReason::kToolCalls : FinishReason::kStop);
  event.usage = CanonicalUsage(usage_);
  progress.events.push_back(std::move(event));
}

const AnthropicStreamDecoder::Block* AnthropicStreamDecoder::FindBlock(uint64_t index) const {
  // The latest block with that index wins, should an upstream reuse one.
  for (auto it = blocks_.rbegin(); it != blocks_.rend(); ++it) {
    if (it->index == index) return &*it;
  }
  return nullptr;
}

}  // namespace llmesh::provider
