#include "proxy/provider/gemini/gemini_stream_decoder.h"

#include <utility>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>

#include "proxy/provider/common/error_mapping.h"
#include "proxy/provider/common/json_fields.h"
#include "proxy/provider/common/text.h"
#include "proxy/provider/gemini/gemini_call_ids.h"
#include "proxy/provider/gemini/gemini_response.h"

namespace llmesh::provider {
namespace {

namespace json = boost::json;

}  // namespace

void GeminiStreamDecoder::Feed(std::string_view bytes, Progress& progress) {
  if (ended_ || failure_) return;
  std::optional<UpstreamFailure> failure =
      body_.Feed(bytes, [&](const SseEvent& event) { return OnEvent(event, progress); });
  if (failure && !failure_) Fail(*std::move(failure), progress);
  if (content_) progress.content = true;
}

std::optional<UpstreamFailure> GeminiStreamDecoder::Finish(Progress& progress) {
  if (failure_) return failure_;
  if (ended_) return std::nullopt;
  if (body_.kind() == StreamBody::Kind::kJson) {
    failure_ = body_.EndJson();
    return failure_;
  }
  // Servers may close right after the last data line, without the blank line that ends it.
  if (!body_.EndSse([&](const SseEvent& event) { return OnEvent(event, progress); }) && !failure_) {
    Fail(InStreamFailure(FailureKind::kMalformed, "upstream stream event exceeds the size limit"), progress);
  }
  if (failure_) return failure_;
  if (content_) progress.content = true;
  if (!finished_) {
    failure_ = InStreamFailure(FailureKind::kReset, "upstream stream ended before a finishReason");
    return failure_;
  }
  // The connection close is Gemini's end of stream: only now is the last usageMetadata known.
  ended_ = true;
  StreamEvent finish = MakeStreamEvent(StreamEvent::Kind::kFinish);
  finish.finish_reason = finish_reason_;
  finish.usage = usage_;
  progress.events.push_back(std::move(finish));
  StreamEvent usage = MakeStreamEvent(StreamEvent::Kind::kUsage);
  usage.usage = usage_;
  progress.events.push_back(std::move(usage));
  progress.done = true;
  return std::nullopt;
}

bool GeminiStreamDecoder::Fail(UpstreamFailure failure, Progress& progress) {
  failure_ = std::move(failure);
  progress.failure = failure_;
  return false;
}

bool GeminiStreamDecoder::OnEvent(const SseEvent& event, Progress& progress) {
  const std::string_view data = StripWhitespace(event.data);
  if (data.empty()) return true;
  json::monotonic_resource resource(scratch_);
  json::value value(&resource);
  if (!ParseJson(data, value)) {
    return Fail(InStreamFailure(FailureKind::kMalformed, "upstream stream carried an event that is not JSON"), progress);
  }
  if (std::optional<UpstreamFailure> error = MapStreamError(value)) {
    return Fail(*std::move(error), progress);
  }
  const json::object* response = value.if_object();
  if (response == nullptr) {
    return Fail(InStreamFailure(FailureKind::kMalformed, "upstream stream carried an event that is not a JSON object"),
                progress);
  }
  Translate(*response, progress);
  if (content_) progress.content = true;
  return true;
}

void GeminiStreamDecoder::Translate(const json::object& response, Progress& progress) {
  if (std::optional<Usage> usage = ReadGeminiUsage(response)) usage_ = *usage;
  if (!started_) {
    started_ = true;
    const std::string_view response_id = StringField(response, "responseId");
    call_id_seed_ = response_id.empty() ? RandomCallIdSeed() : CallIdSeed(response_id);
    StreamEvent start = MakeStreamEvent(StreamEvent::Kind::kStart);
    start.id = response_id.empty() ? SynthesizedResponseId(call_id_seed_) : std::string(response_id);
    start.name = std::string(StringField(response, "modelVersion"));
    progress.events.push_back(std::move(start));
  }
  // After the finish only usage may still change; the canonical stream has one kFinish.
  if (finished_) return;
  if (!GeminiBlockReason(response).empty()) {
    SetFinish(FinishReason::kContentFilter);
    return;
  }
  const json::object* candidate = FirstGeminiCandidate(response);
  if (candidate == nullptr) return;
  const json::array* parts = GeminiCandidateParts(*candidate);
  if (parts != nullptr) {
    for (const json::value& item : *parts) {
      const json::object* part = item.if_object();
      if (part == nullptr) continue;
      if (const json::object* function_call = ObjectField(*part, "functionCall")) {
        ToolCall call = ReadGeminiFunctionCall(*function_call, call_id_seed_, tool_count_);
        StreamEvent start = MakeStreamEvent(StreamEvent::Kind::kToolCallStart);
        start.tool_index = tool_count_;
        start.id = std::move(call.id);
        start.name = std::move(call.name);
        progress.events.push_back(std::move(start));
        StreamEvent arguments = MakeStreamEvent(StreamEvent::Kind::kToolCallArguments);
        arguments.tool_index = tool_count_;
        arguments.text = std::move(call.arguments);
        progress.events.push_back(std::move(arguments));
        ++tool_count_;
        called_functions_ = true;
        content_ = true;
      } else if (const std::string_view text = StringField(*part, "text"); !text.empty()) {
        progress.events.push_back(MakeStreamEvent(IsGeminiThought(*part) ? StreamEvent::Kind::kReasoning : StreamEvent::Kind::kText, text));
        content_ = true;
      }
    }
  }
  if (const std::string_view reason = StringField(*candidate, "finishReason"); !reason.empty()) {
    SetFinish(MapGeminiFinishReason(reason, called_functions_));
  }
}

void GeminiStreamDecoder::SetFinish(FinishReason reason) {
  finished_ = true;
  finish_reason_ = reason;
  content_ = true;
}

}  // namespace llmesh::provider
