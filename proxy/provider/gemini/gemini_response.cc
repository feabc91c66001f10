#include "proxy/provider/gemini/gemini_response.h"

#include <string>
#include <utility>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/absl_view.h"
#include "proxy/provider/common/error_mapping.h"
#include "proxy/provider/common/json_fields.h"
#include "proxy/provider/common/text.h"
#include "proxy/provider/gemini/gemini_call_ids.h"

namespace llmesh::provider {
namespace {

namespace json = boost::json;

// Parses `body` into `value` and returns the failure the body stands for, if any: not JSON, an
// error envelope, or not an object.
std::optional<UpstreamFailure> ParseBody(int status, std::string_view body, json::value& value) {
  if (std::optional<UpstreamFailure> failure = ParseAnswerJson(status, StripWhitespace(body), value)) return failure;
  if (!value.is_object()) return MalformedAnswer(status, "upstream answered with JSON that is not an object");
  return std::nullopt;
}

int64_t CreatedSeconds(const json::object& response) {
  const std::string_view create_time = StringField(response, "createTime");
  absl::Time time;
  std::string error;
  if (create_time.empty() || !absl::ParseTime(absl::RFC3339_full, AbslView(create_time), &time, &error)) {
    return 0;
  }
  return absl::ToUnixSeconds(time);
}

}  // namespace

bool IsGeminiThought(const json::object& part) {
  const json::value* thought = part.if_contains("thought");
  return thought != nullptr && thought->is_bool() && thought->get_bool();
}

const json::array* GeminiCandidateParts(const json::object& candidate) {
  const json::object* content = ObjectField(candidate, "content");
  return content == nullptr ? nullptr : ArrayField(*content, "parts");
}

std::optional<Usage> ReadGeminiUsage(const json::object& response) {
  const json::object* metadata = ObjectField(response, "usageMetadata");
  if (metadata == nullptr) return std::nullopt;
  Usage usage;
  usage.prompt_tokens = UintField(*metadata, "promptTokenCount").value_or(0);
  usage.cached_tokens = UintField(*metadata, "cachedContentTokenCount").value_or(0);
  usage.reasoning_tokens = UintField(*metadata, "thoughtsTokenCount").value_or(0);
  usage.completion_tokens = UintField(*metadata, "candidatesTokenCount").value_or(0) + usage.reasoning_tokens;
  return usage;
}

FinishReason MapGeminiFinishReason(std::string_view reason, bool called_functions) {
  if (reason == "MAX_TOKENS") return FinishReason::kLength;
  if (reason == "SAFETY" || reason == "RECITATION" || reason == "LANGUAGE" || reason == "BLOCKLIST" ||
      reason == "PROHIBITED_CONTENT" || reason == "SPII" || reason.starts_with("IMAGE_")) {
    return FinishReason::kContentFilter;
  }
  // STOP and the reasons §6.1 maps to stop: the answer ended; with calls, the client must run
  // them, which only tool_calls tells it.
  return called_functions ? FinishReason::kToolCalls : FinishReason::kStop;
}

std::string_view GeminiBlockReason(const json::object& response) {
  const json::array* candidates = ArrayField(response, "candidates");
  if (candidates != nullptr && !candidates->empty()) return {};
  const json::object* feedback = ObjectField(response, "promptFeedback");
  return feedback == nullptr ? std::string_view() : StringField(*feedback, "blockReason");
}

const json::object* FirstGeminiCandidate(const json::object& response) {
  const json::array* candidates = ArrayField(response, "candidates");
  if (candidates == nullptr) return nullptr;
  const json::object* first = nullptr;
  for (const json::value& item : *candidates) {
    const json::object* candidate = item.if_object();
    if (candidate == nullptr) continue;
    if (UintField(*candidate, "index").value_or(0) == 0) return candidate;
    if (first == nullptr) first = candidate;
  }
  return first;
}

ToolCall ReadGeminiFunctionCall(const json::object& function_call, uint64_t seed, uint32_t ordinal) {
  ToolCall call;
  call.id = CanonicalCallId(StringField(function_call, "id"), seed, ordinal);
  call.name = std::string(StringField(function_call, "name"));
  const json::value* args = function_call.if_contains("args");
  call.arguments = args != nullptr && args->is_object() ? json::serialize(*args) : std::string("{}");
  return call;
}

DecodedResponse DecodeGeminiChatResponse(int status, std::string_view body) {
  DecodedResponse decoded;
  json::monotonic_resource resource;
  json::value value(&resource);
  if (std::optional<UpstreamFailure> failure = ParseBody(status, body, value)) {
    decoded.failure = std::move(failure);
    return decoded;
  }
  const json::object& response = value.get_object();
  const json::object* candidate = FirstGeminiCandidate(response);
  const std::string_view block_reason = GeminiBlockReason(response);
  if (candidate == nullptr && block_reason.empty()) {
    decoded.failure = MalformedAnswer(status, "upstream answer has neither candidates nor a prompt block reason");
    return decoded;
  }

  ChatResponse chat;
  const std::string_view response_id = StringField(response, "responseId");
  const uint64_t seed = response_id.empty() ? RandomCallIdSeed() : CallIdSeed(response_id);
  chat.id = response_id.empty() ? SynthesizedResponseId(seed) : std::string(response_id);
  chat.model = std::string(StringField(response, "modelVersion"));
  chat.created = CreatedSeconds(response);
  if (std::optional<Usage> usage = ReadGeminiUsage(response)) chat.usage = *usage;
  if (candidate == nullptr) {
    chat.finish_reason = FinishReason::kContentFilter;
  } else {
    const json::array* parts = GeminiCandidateParts(*candidate);
    if (parts != nullptr) {
      for (const json::value& item : *parts) {
        const json::object* part = item.if_object();
        if (part == nullptr) continue;
        if (const json::object* function_call = ObjectField(*part, "functionCall")) {
          chat.tool_calls.push_back(
              ReadGeminiFunctionCall(*function_call, seed, static_cast<uint32_t>(chat.tool_calls.size())));
        } else if (const std::string_view text = StringField(*part, "text"); !text.empty()) {
          (IsGeminiThought(*part) ? chat.reasoning : chat.text).append(text);
        }
      }
    }
    chat.finish_reason = MapGeminiFinishReason(StringField(*candidate, "finishReason"), !chat.tool_calls.empty());
  }
  decoded.usage = chat.usage;
  decoded.chat = std::move(chat);
  return decoded;
}

DecodedResponse DecodeGeminiEmbeddingsResponse(int status, std::string_view body, std::string_view model) {
  DecodedResponse decoded;
  // One arena for the whole parse: embeddings are large and freed at once.
  json::monotonic_resource resource;
  json::value value(&resource);
  if (std::optional<UpstreamFailure> failure = ParseBody(status, body, value)) {
    decoded.failure = std::move(failure);
    return decoded;
  }
  const json::array* embeddings = ArrayField(value.get_object(), "embeddings");
  if (embeddings == nullptr) {
    decoded.failure = MalformedAnswer(status, "upstream answer has no 'embeddings' array");
    return decoded;
  }
  EmbeddingsResponse response;
  response.model = std::string(model);
  response.vectors.reserve(embeddings->size());
  for (const json::value& item : *embeddings) {
    const json::object* embedding = item.if_object();
    const json::array* values = embedding == nullptr ? nullptr : ArrayField(*embedding, "values");
    if (values == nullptr) {
      decoded.failure = MalformedAnswer(status, "upstream embedding has no 'values' array");
      return decoded;
    }
    std::vector<double>& vector = response.vectors.emplace_back();
    vector.reserve(values->size());
    for (const json::value& number : *values) {
      if (!number.is_number()) {
        decoded.failure = MalformedAnswer(status, "upstream embedding holds a value that is not a number");
        return decoded;
      }
      vector.push_back(number.to_number<double>());
    }
  }
  decoded.embeddings = std::move(response);
  return decoded;
}

}  // namespace llmesh::provider
