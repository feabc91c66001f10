#include "proxy/provider/openai/openai_stream_decoder.h"

#include <utility>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "absl/strings/str_cat.h"
#include "proxy/provider/common/error_mapping.h"
#include "proxy/provider/common/json_fields.h"
#include "proxy/provider/common/text.h"
#include "proxy/provider/openai/openai_answer_scan.h"
#include "proxy/provider/openai/openai_response.h"

namespace llmesh::provider {
namespace {

bool IsContentDelta(const boost::json::object& delta) {
  for (std::string_view key : {"content", "refusal", "reasoning_content", "reasoning"}) {
    if (!StringField(delta, key).empty()) return true;
  }
  const boost::json::array* tool_calls = ArrayField(delta, "tool_calls");
  return (tool_calls != nullptr && !tool_calls->empty()) ||
         ObjectField(delta, "function_call") != nullptr;
}

}  // namespace

void OpenAiStreamDecoder::Feed(std::string_view bytes, Progress& progress) {
  if (done_ || failure_) return;
  std::optional<UpstreamFailure> failure =
      body_.Feed(bytes, [&](const SseEvent& event) { return OnEvent(event, progress); });
  if (failure && !failure_) Fail(*std::move(failure), progress);
  if (content_) progress.content = true;
}

std::optional<UpstreamFailure> OpenAiStreamDecoder::Finish(Progress& /*progress*/) {
  if (failure_) return failure_;
  if (done_) return std::nullopt;
  if (body_.kind() == StreamBody::Kind::kJson) {
    failure_ = body_.EndJson();
    return failure_;
  }
  failure_ = InStreamFailure(FailureKind::kReset, "upstream stream ended before [DONE]");
  return failure_;
}

bool OpenAiStreamDecoder::Fail(UpstreamFailure failure, Progress& progress) {
  failure_ = std::move(failure);
  progress.failure = failure_;
  return false;
}

bool OpenAiStreamDecoder::OnEvent(const SseEvent& event, Progress& progress) {
  if (event.event == "error") {
    boost::json::value value;
    if (ParseJson(event.data, value)) {
      if (std::optional<UpstreamFailure> error = MapStreamError(value)) {
        return Fail(*std::move(error), progress);
      }
    }
    std::string message = TruncateUtf8(event.data, kMaxErrorMessageBytes);
    if (message.empty()) message = "upstream sent an error event";
    return Fail(InStreamFailure(FailureKind::kServerError, std::move(message)), progress);
  }
  const std::string_view data = StripWhitespace(event.data);
  if (data.empty()) return true;
  if (data == "[DONE]") {
    done_ = true;
    progress.done = true;
    if (translate_) {
      // Canonical streams always start and finish, even when the upstream skipped a chunk
      // with a finish_reason (or sent no chunk at all).
      if (!started_) {
        started_ = true;
        progress.events.push_back(MakeStreamEvent(StreamEvent::Kind::kStart));
      }
      if (!finished_) AppendFinish(std::nullopt, progress);
      StreamEvent usage = MakeStreamEvent(StreamEvent::Kind::kUsage);
      usage.usage = usage_;
      progress.events.push_back(std::move(usage));
    } else {
      progress.wire.append("data: [DONE]\n\n");
    }
    return false;
  }
  return OnChunk(event, progress);
}

bool OpenAiStreamDecoder::OnChunk(const SseEvent& event, Progress& progress) {
  // A passthrough chunk of the common shape is read without a tree; any other goes the tree's way.
  if (!translate_) {
    if (const std::optional<OpenAiChunkOutline> outline = ScanOpenAiChunk(event.data)) {
      if (outline->usage) usage_ = *outline->usage;
      if (!outline->has_choices) {
        if (forward_usage_ && outline->usage_object) AppendSseEvent(progress.wire, /*event_name=*/{}, event.data);
        return true;
      }
      AppendSseEvent(progress.wire, /*event_name=*/{}, event.data);
      if (outline->content) {
        content_ = true;
        progress.content = true;
      }
      return true;
    }
  }
  boost::json::monotonic_resource resource(scratch_);
  boost::json::value value(&resource);
  if (!ParseJson(event.data, value)) {
    return Fail(InStreamFailure(FailureKind::kMalformed, "upstream stream carried an event that is not JSON"),
                progress);
  }
  if (std::optional<UpstreamFailure> error = MapStreamError(value)) {
    return Fail(*std::move(error), progress);
  }
  const boost::json::object* chunk = value.if_object();
  if (chunk == nullptr) {
    return Fail(InStreamFailure(FailureKind::kMalformed, "upstream stream carried an event that is not a JSON object"),
                progress);
  }
  if (std::optional<Usage> usage = ReadOpenAiUsage(*chunk)) usage_ = *usage;

  const boost::json::array* choices = ArrayField(*chunk, "choices");
  if (choices == nullptr || choices->empty()) {
    if (!translate_ && forward_usage_ && ObjectField(*chunk, "usage") != nullptr) {
      AppendSseEvent(progress.wire, /*event_name=*/{}, event.data);
    }
    return true;
  }
  bool content = false;
  bool nonstandard_stop = false;
  for (const boost::json::value& item : *choices) {
    const boost::json::object* choice = item.if_object();
    if (choice == nullptr) continue;
    const std::string_view finish = StringField(*choice, "finish_reason");
    if (finish == "insufficient_system_resource") {
      return Fail(InStreamFailure(FailureKind::kOverloaded,
                                  "the provider ran out of inference capacity mid-generation", finish),
                  progress);
    }
    if (finish == "error") {
      return Fail(InStreamFailure(FailureKind::kServerError, "the provider reported an error mid-generation",
                                  finish),
                  progress);
    }
    if (!finish.empty()) content = true;
    if (IsNonStandardStop(finish)) nonstandard_stop = true;
    if (const boost::json::object* delta = ObjectField(*choice, "delta");
        delta != nullptr && IsContentDelta(*delta)) {
      content = true;
    }
  }
  if (translate_) {
    Translate(*chunk, progress);
  } else if (nonstandard_stop && NormalizeFinishReasons(value)) {
    // Only a chunk that needs repair is re-serialised; all others go out as received.
    AppendSseEvent(progress.wire, /*event_name=*/{}, boost::json::serialize(value));
  } else {
    AppendSseEvent(progress.wire, /*event_name=*/{}, event.data);
  }
  if (content) {
    content_ = true;
    progress.content = true;
  }
  return true;
}

void OpenAiStreamDecoder::Translate(const boost::json::object& chunk, Progress& progress) {
  std::vector<StreamEvent>& events = progress.events;
  if (!started_) {
    started_ = true;
    StreamEvent start = MakeStreamEvent(StreamEvent::Kind::kStart);
    start.id = std::string(StringField(chunk, "id"));
    start.name = std::string(StringField(chunk, "model"));
    events.push_back(std::move(start));
  }
  // Only the first choice: a translated request never asks for more than one.
  const boost::json::object* choice = (*ArrayField(chunk, "choices"))[0].if_object();
  if (choice == nullptr) return;
  if (const boost::json::object* delta = ObjectField(*choice, "delta")) {
    std::string_view reasoning = StringField(*delta, "reasoning_content");
    if (reasoning.empty()) reasoning = StringField(*delta, "reasoning");
    if (!reasoning.empty()) events.push_back(MakeStreamEvent(StreamEvent::Kind::kReasoning, reasoning));
    if (std::string_view text = StringField(*delta, "content"); !text.empty()) {
      events.push_back(MakeStreamEvent(StreamEvent::Kind::kText, text));
    }
    // Other formats have no refusal; what the model said is the answer's text.
    if (std::string_view refusal = StringField(*delta, "refusal"); !refusal.empty()) {
      events.push_back(MakeStreamEvent(StreamEvent::Kind::kText, refusal));
    }
    if (const boost::json::array* calls = ArrayField(*delta, "tool_calls")) {
      for (const boost::json::value& item : *calls) {
        const boost::json::object* call = item.if_object();
        if (call == nullptr) continue;
        const uint32_t upstream_index = static_cast<uint32_t>(UintField(*call, "index").value_or(0));
        const boost::json::object* function = ObjectField(*call, "function");
        const std::string_view id = StringField(*call, "id");
        const std::string_view name = function == nullptr ? std::string_view() : StringField(*function, "name");
        const ToolSlot* slot = nullptr;
        for (size_t i = tool_slots_.size(); i-- > 0;) {
          if (tool_slots_[i].upstream_index == upstream_index) {
            slot = &tool_slots_[i];
            break;
          }
        }
        // A delta of an index never seen starts a call even without an id or a name, so that
        // arguments always follow the start of their call.
        const bool starts = slot == nullptr || (!id.empty() && id != slot->id);
        uint32_t tool_index = 0;
        if (starts) {
          tool_calls_seen_ = true;
          tool_index = static_cast<uint32_t>(tool_slots_.size());
          StreamEvent start = MakeStreamEvent(StreamEvent::Kind::kToolCallStart);
          start.tool_index = tool_index;
          // Canonical calls always have an id; a provider that sent none gets one made up.
          start.id = id.empty() ? absl::StrCat("call_", tool_index) : std::string(id);
          start.name = std::string(name);
          tool_slots_.push_back(ToolSlot{upstream_index, start.id});
          events.push_back(std::move(start));
        } else {
          tool_index = static_cast<uint32_t>(slot - tool_slots_.data());
        }
        if (function != nullptr) {
          if (std::string_view arguments = StringField(*function, "arguments"); !arguments.empty()) {
            StreamEvent fragment = MakeStreamEvent(StreamEvent::Kind::kToolCallArguments, arguments);
            fragment.tool_index = tool_index;
            events.push_back(std::move(fragment));
          }
        }
      }
    }
  }
  // Some compatibles repeat the finish_reason on a later chunk (Groq's x_groq chunk); the
  // canonical stream finishes once.
  if (const std::string_view finish = StringField(*choice, "finish_reason"); !finish.empty() && !finished_) {
    AppendFinish(ParseFinishReason(finish), progress);
  }
}

void OpenAiStreamDecoder::AppendFinish(std::optional<FinishReason> reason, Progress& progress) {
  finished_ = true;
  StreamEvent event = MakeStreamEvent(StreamEvent::Kind::kFinish);
  // An unknown or missing reason reads as a normal end (wire-formats §6.1), of a tool turn when
  // the answer called tools.
  event.finish_reason = reason.value_or(tool_calls_seen_ ? FinishReason::kToolCalls : FinishReason::kStop);
  event.usage = usage_;
  progress.events.push_back(std::move(event));
}

}  // namespace llmesh::provider
