#include "proxy/provider/anthropic/anthropic_response.h"

#include <optional>
#include <utility>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "proxy/provider/anthropic/anthropic_mapping.h"
#include "proxy/provider/common/error_mapping.h"
#include "proxy/provider/common/json_fields.h"
#include "proxy/provider/common/text.h"

namespace llmesh::provider {
namespace {

namespace json = boost::json;

json::string_view JsonView(std::string_view s) { return json::string_view(s.data(), s.size()); }

}  // namespace

std::string AnthropicMessageId(std::string_view id) {
  if (id.starts_with("msg_")) return std::string(id);
  return absl::StrCat("msg_", AbslView(id));
}

ChatResponse ChatResponseFromMessage(const json::object& message) {
  ChatResponse response;
  response.id = std::string(StringField(message, "id"));
  response.model = std::string(StringField(message, "model"));
  if (const json::array* content = ArrayField(message, "content")) {
    for (const json::value& item : *content) {
      const json::object* block = item.if_object();
      if (block == nullptr) continue;
      const std::string_view type = StringField(*block, "type");
      if (type == "text") {
        response.text.append(StringField(*block, "text"));
      } else if (type == "thinking") {
        response.reasoning.append(StringField(*block, "thinking"));
      } else if (type == "tool_use") {
        ToolCall call;
        call.id = std::string(StringField(*block, "id"));
        call.name = std::string(StringField(*block, "name"));
        const json::value* input = block->if_contains("input");
        call.arguments = input == nullptr || input->is_null() ? "{}" : json::serialize(*input);
        response.tool_calls.push_back(std::move(call));
      }
    }
  }
  response.finish_reason = FinishReasonFromStopReason(StringField(message, "stop_reason"));
  response.stop_sequence = std::string(StringField(message, "stop_sequence"));
  AnthropicUsage usage;
  if (const json::object* object = ObjectField(message, "usage")) MergeAnthropicUsage(*object, usage);
  response.usage = CanonicalUsage(usage);
  return response;
}

DecodedResponse DecodeAnthropicResponse(int status, std::string_view body, bool passthrough) {
  DecodedResponse decoded;
  const std::string_view text = StripLeadingWhitespace(body);
  // One arena for the whole parse, freed at once; a typical answer fits the buffer and costs
  // no heap allocation.
  unsigned char scratch[4096];
  json::monotonic_resource resource(scratch, sizeof scratch);
  json::value value(&resource);
  decoded.failure = ParseAnswerJson(status, text, value);
  if (decoded.failure) return decoded;
  const json::object* message = value.if_object();
  if (message == nullptr || ArrayField(*message, "content") == nullptr) {
    decoded.failure = MalformedAnswer(status, "upstream answer has no 'content' array");
    return decoded;
  }
  if (passthrough) {
    AnthropicUsage usage;
    if (const json::object* object = ObjectField(*message, "usage")) MergeAnthropicUsage(*object, usage);
    decoded.usage = CanonicalUsage(usage);
    decoded.body = std::string(text);
  } else {
    decoded.chat = ChatResponseFromMessage(*message);
    decoded.usage = decoded.chat->usage;
  }
  return decoded;
}

std::string RenderAnthropicResponse(const ChatResponse& response, std::string_view model) {
  json::object message;
  message["id"] = AnthropicMessageId(response.id);
  message["type"] = "message";
  message["role"] = "assistant";
  message["model"] = JsonView(model.empty() ? std::string_view(response.model) : model);
  json::array& content = message["content"].emplace_array();
  if (!response.text.empty() || response.tool_calls.empty()) {
    json::object& block = content.emplace_back(json::object()).get_object();
    block["type"] = "text";
    block["text"] = response.text;
  }
  for (const ToolCall& call : response.tool_calls) {
    json::object& block = content.emplace_back(json::object()).get_object();
    block["type"] = "tool_use";
    block["id"] = call.id;
    block["name"] = call.name;
    json::value input;
    if (!ParseJson(call.arguments, input) || !input.is_object()) input.emplace_object();
    block["input"] = std::move(input);
  }
  const bool matched = response.finish_reason == FinishReason::kStop && !response.stop_sequence.empty();
  const std::string_view stop_reason = StopReasonFromFinishReason(response.finish_reason, matched);
  message["stop_reason"] = JsonView(stop_reason);
  if (matched) {
    message["stop_sequence"] = response.stop_sequence;
  } else {
    message["stop_sequence"] = nullptr;
  }
  message["usage"] = AnthropicUsageJson(response.usage);
  return json::serialize(message);
}

}  // namespace llmesh::provider
