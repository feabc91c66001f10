#include "proxy/provider/anthropic/anthropic_request.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "common/status_macros.h"
#include "proxy/provider/common/json_fields.h"
#include "proxy/provider/common/text.h"

namespace llmesh::provider {
namespace {

namespace json = boost::json;

absl::Status Unsupported(std::string_view message) {
  return absl::FailedPreconditionError(AbslView(message));
}

json::string_view JsonView(std::string_view s) { return json::string_view(s.data(), s.size()); }

bool IsAcceptedImageType(std::string_view media_type) {
  return media_type == "image/jpeg" || media_type == "image/png" || media_type == "image/gif" ||
         media_type == "image/webp";
}

absl::StatusOr<json::object> ImageBlock(const ContentPart& part) {
  json::object source;
  if (!part.data.empty()) {
    if (!IsAcceptedImageType(part.media_type)) {
      return Unsupported(absl::StrCat(
          "anthropic accepts image/jpeg, image/png, image/gif and image/webp images only (got '",
          AbslView(part.media_type), "')"));
    }
    source["type"] = "base64";
    source["media_type"] = JsonView(part.media_type);
    source["data"] = JsonView(part.data);
  } else if (!part.url.empty()) {
    source["type"] = "url";
    source["url"] = JsonView(part.url);
  } else {
    return Unsupported("an image part has neither data nor a url");
  }
  json::object block;
  block["type"] = "image";
  block["source"] = std::move(source);
  return block;
}

bool IsTextBlock(const json::value& block) {
  return block.is_object() && StringField(block.get_object(), "type") == "text";
}

json::object TextBlock(std::string_view text) {
  json::object block;
  block["type"] = "text";
  block["text"] = JsonView(text);
  return block;
}

// Text and image parts as blocks; empty text parts are dropped because Anthropic rejects them.
absl::Status AppendContentBlocks(const Message& message, json::array& blocks) {
  for (const ContentPart& part : message.content) {
    if (part.kind == ContentPart::Kind::kText) {
      if (!part.text.empty()) blocks.emplace_back(TextBlock(part.text));
      continue;
    }
    if (message.role != Role::kUser && message.role != Role::kTool) {
      return Unsupported(absl::StrCat("anthropic accepts images only from the user (found one in a ",
                                      AbslView(RoleName(message.role)), " message)"));
    }
    LLMESH_ASSIGN_OR_RETURN(json::object image, ImageBlock(part));
    blocks.emplace_back(std::move(image));
  }
  return absl::OkStatus();
}

absl::StatusOr<json::object> ToolUseBlock(const ToolCall& call) {
  json::value input;
  const std::string_view arguments = StripWhitespace(call.arguments);
  if (arguments.empty()) {
    input.emplace_object();
  } else if (!ParseJson(arguments, input) || !input.is_object()) {
    return Unsupported(absl::StrCat("the arguments of tool call '", AbslView(call.id),
                                    "' are not a JSON object, which anthropic requires"));
  }
  json::object block;
  block["type"] = "tool_use";
  block["id"] = JsonView(call.id);
  block["name"] = JsonView(call.name);
  block["input"] = std::move(input);
  return block;
}

absl::StatusOr<json::object> ToolResultBlock(const Message& message) {
  if (message.tool_call_id.empty()) {
    return Unsupported("a tool message has no tool_call_id, which anthropic requires");
  }
  json::array content;
  LLMESH_RETURN_IF_ERROR(AppendContentBlocks(message, content));
  json::object block;
  block["type"] = "tool_result";
  block["tool_use_id"] = JsonView(message.tool_call_id);
  // A lone text stays a plain string, the form most tools produce.
  if (content.size() == 1 && IsTextBlock(content.front())) {
    block["content"] = std::move(content.front().get_object().at("text"));
  } else if (!content.empty()) {
    block["content"] = std::move(content);
  }
  return block;
}

// One Messages turn being assembled. tool_result blocks are kept in front of the others.
struct Turn {
  std::string_view role;  // "user" or "assistant"
  json::array blocks;
  size_t leading_results = 0;
};

Turn& TurnFor(std::vector<Turn>& turns, std::string_view role) {
  if (turns.empty() || turns.back().role != role) turns.push_back(Turn{role, {}, 0});
  return turns.back();
}

json::value TurnContent(json::array& blocks) {
  // A single text block is written as the string shorthand (§2.3).
  if (blocks.size() == 1 && IsTextBlock(blocks.front())) {
    return std::move(blocks.front().get_object().at("text"));
  }
  return std::move(blocks);
}

// System parts, then the conversation turns.
absl::Status BuildConversation(const ChatRequest& request, json::object& body) {
  std::vector<std::string_view> system;
  std::vector<Turn> turns;
  for (const Message& message : request.messages) {
    switch (message.role) {
      case Role::kSystem:
        for (const ContentPart& part : message.content) {
          if (part.kind != ContentPart::Kind::kText) {
            return Unsupported("anthropic system prompts carry text only (found an image)");
          }
          if (!part.text.empty()) system.push_back(part.text);
        }
        break;
      case Role::kUser: {
        json::array blocks;
        LLMESH_RETURN_IF_ERROR(AppendContentBlocks(message, blocks));
        if (blocks.empty()) break;
        Turn& turn = TurnFor(turns, "user");
        for (json::value& block : blocks) turn.blocks.push_back(std::move(block));
        break;
      }
      case Role::kAssistant: {
        json::array blocks;
        LLMESH_RETURN_IF_ERROR(AppendContentBlocks(message, blocks));
        for (const ToolCall& call : message.tool_calls) {
          LLMESH_ASSIGN_OR_RETURN(json::object block, ToolUseBlock(call));
          blocks.emplace_back(std::move(block));
        }
        if (blocks.empty()) break;
        Turn& turn = TurnFor(turns, "assistant");
        for (json::value& block : blocks) turn.blocks.push_back(std::move(block));
        break;
      }
      case Role::kTool: {
        LLMESH_ASSIGN_OR_RETURN(json::object block, ToolResultBlock(message));
        Turn& turn = TurnFor(turns, "user");
        turn.blocks.insert(turn.blocks.begin() + static_cast<std::ptrdiff_t>(turn.leading_results),
                           std::move(block));
        ++turn.leading_results;
        break;
      }
    }
  }
  if (turns.empty() || turns.front().role != "user") {
    Turn placeholder{"user", {}, 0};
    placeholder.blocks.emplace_back(TextBlock(kFirstTurnPlaceholder));
    turns.insert(turns.begin(), std::move(placeholder));
  }

  if (system.size() == 1) {
    body["system"] = JsonView(system.front());
  } else if (!system.empty()) {
    json::array& blocks = body["system"].emplace_array();
    for (std::string_view text : system) blocks.emplace_back(TextBlock(text));
  }
  json::array& messages = body["messages"].emplace_array();
  for (Turn& turn : turns) {
    json::object message;
    message["role"] = JsonView(turn.role);
    message["content"] = TurnContent(turn.blocks);
    messages.emplace_back(std::move(message));
  }
  return absl::OkStatus();
}

void WriteTools(const ChatRequest& request, json::object& body) {
  if (request.tools.empty()) return;
  json::array& tools = body["tools"].emplace_array();
  for (const ToolDefinition& definition : request.tools) {
    json::object tool;
    tool["name"] = JsonView(definition.name);
    if (!definition.description.empty()) tool["description"] = JsonView(definition.description);
    if (definition.parameters.is_object()) {
      tool["input_schema"] = definition.parameters;
    } else {
      // input_schema is required; a tool without parameters takes an empty object.
      json::object& schema = tool["input_schema"].emplace_object();
      schema["type"] = "object";
      schema["properties"].emplace_object();
    }
    tools.emplace_back(std::move(tool));
  }

  const bool serial = request.parallel_tool_calls.has_value() && !*request.parallel_tool_calls;
  if (!request.tool_choice && !serial) return;
  const ToolChoice choice = request.tool_choice.value_or(ToolChoice{});
  json::object& out = body["tool_choice"].emplace_object();
  switch (choice.mode) {
    case ToolChoice::Mode::kAuto: out["type"] = "auto"; break;
    case ToolChoice::Mode::kNone: out["type"] = "none"; break;
    case ToolChoice::Mode::kRequired: out["type"] = "any"; break;
    case ToolChoice::Mode::kNamed:
      out["type"] = "tool";
      out["name"] = JsonView(choice.name);
      break;
  }
  if (serial && choice.mode != ToolChoice::Mode::kNone) out["disable_parallel_tool_use"] = true;
}

}  // namespace

absl::StatusOr<std::string> EncodeAnthropicRequest(const ChatRequest& request,
                                                   std::string_view model,
                                                   uint64_t default_max_tokens) {
  if (request.n > 1) {
    return Unsupported(
        absl::StrCat("anthropic cannot return more than one choice (n=", request.n, ")"));
  }
  json::object body;
  body["model"] = JsonView(model);
  uint64_t max_tokens = request.max_tokens.value_or(default_max_tokens);
  if (max_tokens == 0) max_tokens = kAnthropicDefaultMaxTokens;
  body["max_tokens"] = max_tokens;
  LLMESH_RETURN_IF_ERROR(BuildConversation(request, body));

  if (!request.stop.empty()) {
    json::array& stop = body["stop_sequences"].emplace_array();
    for (const std::string& sequence : request.stop) stop.emplace_back(JsonView(sequence));
  }
  if (request.temperature) body["temperature"] = std::clamp(*request.temperature, 0.0, 1.0);
  if (request.top_p) body["top_p"] = *request.top_p;
  if (request.top_k) body["top_k"] = *request.top_k;
  WriteTools(request, body);
  if (request.response_format &&
      request.response_format->kind == ResponseFormat::Kind::kJsonSchema &&
      !request.response_format->schema.is_null()) {
    json::object& format = body["output_config"].emplace_object()["format"].emplace_object();
    format["type"] = "json_schema";
    format["schema"] = request.response_format->schema;
  }
  if (!request.user.empty()) {
    body["metadata"].emplace_object()["user_id"] = JsonView(request.user);
  }
  if (request.stream) body["stream"] = true;
  return json::serialize(body);
}

}  // namespace llmesh::provider
