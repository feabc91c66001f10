// ParseAnthropicRequest (declared in anthropic_request.h): inbound Messages body → ChatRequest.
#include <string>
#include <unordered_map>
#include <utility>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "common/status_macros.h"
#include "proxy/provider/anthropic/anthropic_request.h"
#include "proxy/provider/common/json_fields.h"
#include "proxy/provider/provider.h"

namespace llmesh::provider {
namespace {

namespace json = boost::json;

// Messages follow Anthropic's own validation errors ("<path>: <problem>") so that clients see
// what the real API would have said.
absl::Status Invalid(std::string_view path, std::string_view problem) {
  absl::Status status =
      absl::InvalidArgumentError(absl::StrCat(AbslView(path), ": ", AbslView(problem)));
  status.SetPayload(AbslView(kParamPayloadKey), absl::Cord(AbslView(path)));
  return status;
}

absl::Status Untranslatable(std::string_view what) {
  return absl::FailedPreconditionError(
      absl::StrCat(AbslView(what), " cannot be translated for other providers"));
}

std::string Path(std::string_view parent, std::string_view child) {
  return absl::StrCat(AbslView(parent), ".", AbslView(child));
}
std::string Path(std::string_view parent, size_t index) {
  return absl::StrCat(AbslView(parent), ".", index);
}

std::string_view View(const json::string& s) { return std::string_view(s.data(), s.size()); }

absl::StatusOr<std::string> RequiredString(const json::object& object, std::string_view key,
                                           std::string_view path) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr) return Invalid(Path(path, key), "Field required");
  if (!value->is_string()) return Invalid(Path(path, key), "Input should be a valid string");
  return std::string(View(value->get_string()));
}

absl::StatusOr<const json::object*> RequiredObject(const json::value& value, std::string_view path) {
  if (!value.is_object()) return Invalid(path, "Input should be a valid dictionary");
  return &value.get_object();
}

absl::StatusOr<ContentPart> ParseImage(const json::object& block, std::string_view path) {
  const json::value* source_value = block.if_contains("source");
  const std::string source_path = Path(path, "source");
  if (source_value == nullptr) return Invalid(source_path, "Field required");
  LLMESH_ASSIGN_OR_RETURN(const json::object* source, RequiredObject(*source_value, source_path));
  LLMESH_ASSIGN_OR_RETURN(std::string type, RequiredString(*source, "type", source_path));
  ContentPart part;
  part.kind = ContentPart::Kind::kImage;
  if (type == "base64") {
    LLMESH_ASSIGN_OR_RETURN(part.media_type, RequiredString(*source, "media_type", source_path));
    LLMESH_ASSIGN_OR_RETURN(part.data, RequiredString(*source, "data", source_path));
  } else if (type == "url") {
    LLMESH_ASSIGN_OR_RETURN(part.url, RequiredString(*source, "url", source_path));
  } else {
    return Untranslatable(absl::StrCat("an image source of type '", type, "'"));
  }
  return part;
}

// A text or image block (the kinds every provider takes) into `parts`; false for other types.
absl::StatusOr<bool> ParseCommonBlock(const json::object& block, std::string_view type,
                                      std::string_view path, std::vector<ContentPart>& parts) {
  if (type == "text") {
    LLMESH_ASSIGN_OR_RETURN(std::string text, RequiredString(block, "text", path));
    parts.push_back(ContentPart::Text(std::move(text)));
    return true;
  }
  if (type == "image") {
    LLMESH_ASSIGN_OR_RETURN(ContentPart image, ParseImage(block, path));
    parts.push_back(std::move(image));
    return true;
  }
  return false;
}

absl::StatusOr<Message> ParseToolResult(const json::object& block, std::string_view path,
                                        const std::unordered_map<std::string, std::string>& names) {
  Message message;
  message.role = Role::kTool;
  LLMESH_ASSIGN_OR_RETURN(message.tool_call_id, RequiredString(block, "tool_use_id", path));
  if (auto name = names.find(message.tool_call_id); name != names.end()) message.name = name->second;
  const json::value* content = block.if_contains("content");
  if (content == nullptr || content->is_null()) return message;
  const std::string content_path = Path(path, "content");
  if (content->is_string()) {
    message.content.push_back(ContentPart::Text(std::string(View(content->get_string()))));
    return message;
  }
  if (!content->is_array()) {
    return Invalid(content_path, "Input should be a valid string or list of content blocks");
  }
  size_t index = 0;
  for (const json::value& item : content->get_array()) {
    const std::string item_path = Path(content_path, index++);
    LLMESH_ASSIGN_OR_RETURN(const json::object* inner, RequiredObject(item, item_path));
    LLMESH_ASSIGN_OR_RETURN(std::string type, RequiredString(*inner, "type", item_path));
    LLMESH_ASSIGN_OR_RETURN(bool known, ParseCommonBlock(*inner, type, item_path, message.content));
    if (!known) return Untranslatable(absl::StrCat("a '", type, "' block in a tool result"));
  }
  return message;
}

absl::StatusOr<ToolCall> ParseToolUse(const json::object& block, std::string_view path) {
  ToolCall call;
  LLMESH_ASSIGN_OR_RETURN(call.id, RequiredString(block, "id", path));
  LLMESH_ASSIGN_OR_RETURN(call.name, RequiredString(block, "name", path));
  const json::value* input = block.if_contains("input");
  if (input == nullptr || input->is_null()) {
    call.arguments = "{}";
  } else if (!input->is_object()) {
    return Invalid(Path(path, "input"), "Input should be a valid dictionary");
  } else {
    call.arguments = json::serialize(*input);
  }
  return call;
}

// One Messages turn → canonical messages appended to `out` (a user turn's tool results first).
absl::Status ParseTurn(const json::value& item, std::string_view path,
                       std::unordered_map<std::string, std::string>& names,
                       std::vector<Message>& out) {
  LLMESH_ASSIGN_OR_RETURN(const json::object* turn, RequiredObject(item, path));
  LLMESH_ASSIGN_OR_RETURN(std::string role, RequiredString(*turn, "role", path));
  if (role != "user" && role != "assistant") {
    return Invalid(Path(path, "role"), "Input should be 'user' or 'assistant'");
  }
  const bool user = role == "user";
  Message message;
  message.role = user ? Role::kUser : Role::kAssistant;
  const std::string content_path = Path(path, "content");
  const json::value* content = turn->if_contains("content");
  if (content == nullptr) return Invalid(content_path, "Field required");
  if (content->is_string()) {
    message.content.push_back(ContentPart::Text(std::string(View(content->get_string()))));
    out.push_back(std::move(message));
    return absl::OkStatus();
  }
  if (!content->is_array()) {
    return Invalid(content_path, "Input should be a valid string or list of content blocks");
  }
  size_t index = 0;
  for (const json::value& block_value : content->get_array()) {
    const std::string block_path = Path(content_path, index++);
    LLMESH_ASSIGN_OR_RETURN(const json::object* block, RequiredObject(block_value, block_path));
    LLMESH_ASSIGN_OR_RETURN(std::string type, RequiredString(*block, "type", block_path));
    LLMESH_ASSIGN_OR_RETURN(bool known, ParseCommonBlock(*block, type, block_path, message.content));
    if (known) continue;
    if (type == "thinking" || type == "redacted_thinking") continue;
    if (type == "tool_use") {
      if (user) return Invalid(block_path, "tool_use blocks belong in assistant messages");
      LLMESH_ASSIGN_OR_RETURN(ToolCall call, ParseToolUse(*block, block_path));
      names[call.id] = call.name;
      message.tool_calls.push_back(std::move(call));
    } else if (type == "tool_result") {
      if (!user) return Invalid(block_path, "tool_result blocks belong in user messages");
      LLMESH_ASSIGN_OR_RETURN(Message result, ParseToolResult(*block, block_path, names));
      out.push_back(std::move(result));
    } else {
      return Untranslatable(absl::StrCat("a '", type, "' content block"));
    }
  }
  if (!message.content.empty() || !message.tool_calls.empty()) out.push_back(std::move(message));
  return absl::OkStatus();
}

absl::Status ParseSystem(const json::value& system, std::vector<Message>& out) {
  Message message;
  message.role = Role::kSystem;
  if (system.is_string()) {
    message.content.push_back(ContentPart::Text(std::string(View(system.get_string()))));
  } else if (system.is_array()) {
    size_t index = 0;
    for (const json::value& item : system.get_array()) {
      const std::string path = Path("system", index++);
      LLMESH_ASSIGN_OR_RETURN(const json::object* block, RequiredObject(item, path));
      LLMESH_ASSIGN_OR_RETURN(std::string type, RequiredString(*block, "type", path));
      if (type != "text") return Invalid(Path(path, "type"), "Input should be 'text'");
      LLMESH_ASSIGN_OR_RETURN(std::string text, RequiredString(*block, "text", path));
      message.content.push_back(ContentPart::Text(std::move(text)));
    }
  } else {
    return Invalid("system", "Input should be a valid string or list of text blocks");
  }
  if (!message.content.empty()) out.push_back(std::move(message));
  return absl::OkStatus();
}

absl::Status ParseTools(const json::value& value, ChatRequest& request) {
  if (!value.is_array()) return Invalid("tools", "Input should be a valid list");
  size_t index = 0;
  for (const json::value& item : value.get_array()) {
    const std::string path = Path("tools", index++);
    LLMESH_ASSIGN_OR_RETURN(const json::object* tool, RequiredObject(item, path));
    const std::string_view type = StringField(*tool, "type");
    if (!type.empty() && type != "custom") {
      return Untranslatable(absl::StrCat("the server tool '", AbslView(type), "'"));
    }
    ToolDefinition definition;
    LLMESH_ASSIGN_OR_RETURN(definition.name, RequiredString(*tool, "name", path));
    if (const json::value* description = tool->if_contains("description");
        description != nullptr && !description->is_null()) {
      LLMESH_ASSIGN_OR_RETURN(definition.description, RequiredString(*tool, "description", path));
    }
    const json::value* schema = tool->if_contains("input_schema");
    if (schema == nullptr) return Invalid(Path(path, "input_schema"), "Field required");
    if (!schema->is_object()) return Invalid(Path(path, "input_schema"), "Input should be a valid dictionary");
    definition.parameters = *schema;
    request.tools.push_back(std::move(definition));
  }
  return absl::OkStatus();
}

absl::Status ParseToolChoice(const json::value& value, ChatRequest& request) {
  LLMESH_ASSIGN_OR_RETURN(const json::object* choice, RequiredObject(value, "tool_choice"));
  LLMESH_ASSIGN_OR_RETURN(std::string type, RequiredString(*choice, "type", "tool_choice"));
  ToolChoice out;
  if (type == "auto") {
    out.mode = ToolChoice::Mode::kAuto;
  } else if (type == "any") {
    out.mode = ToolChoice::Mode::kRequired;
  } else if (type == "none") {
    out.mode = ToolChoice::Mode::kNone;
  } else if (type == "tool") {
    out.mode = ToolChoice::Mode::kNamed;
    LLMESH_ASSIGN_OR_RETURN(out.name, RequiredString(*choice, "name", "tool_choice"));
  } else {
    return Invalid("tool_choice.type", "Input should be 'auto', 'any', 'tool' or 'none'");
  }
  if (const json::value* disable = choice->if_contains("disable_parallel_tool_use");
      disable != nullptr && !disable->is_null()) {
    if (!disable->is_bool()) {
      return Invalid("tool_choice.disable_parallel_tool_use", "Input should be a valid boolean");
    }
    request.parallel_tool_calls = !disable->get_bool();
  }
  request.tool_choice = std::move(out);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<double>> OptionalNumber(const json::object& body, std::string_view key) {
  const json::value* value = body.if_contains(key);
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (!value->is_number()) return Invalid(key, "Input should be a valid number");
  boost::system::error_code ec;
  const double number = value->to_number<double>(ec);
  if (ec) return Invalid(key, "Input should be a valid number");
  return number;
}

absl::Status ParseSampling(const json::object& body, ChatRequest& request) {
  const json::value* max_tokens = body.if_contains("max_tokens");
  if (max_tokens == nullptr || max_tokens->is_null()) return Invalid("max_tokens", "Field required");
  const std::optional<int64_t> max = IntField(body, "max_tokens");
  if (!max) return Invalid("max_tokens", "Input should be a valid integer");
  if (*max < 1) return Invalid("max_tokens", "Input should be greater than or equal to 1");
  request.max_tokens = static_cast<uint64_t>(*max);

  LLMESH_ASSIGN_OR_RETURN(request.temperature, OptionalNumber(body, "temperature"));
  LLMESH_ASSIGN_OR_RETURN(request.top_p, OptionalNumber(body, "top_p"));
  if (const json::value* top_k = body.if_contains("top_k"); top_k != nullptr && !top_k->is_null()) {
    request.top_k = UintField(body, "top_k");
    if (!request.top_k) return Invalid("top_k", "Input should be a valid non-negative integer");
  }
  if (const json::value* stop = body.if_contains("stop_sequences"); stop != nullptr && !stop->is_null()) {
    if (!stop->is_array()) return Invalid("stop_sequences", "Input should be a valid list");
    size_t index = 0;
    for (const json::value& sequence : stop->get_array()) {
      if (!sequence.is_string()) {
        return Invalid(Path("stop_sequences", index), "Input should be a valid string");
      }
      request.stop.emplace_back(View(sequence.get_string()));
      ++index;
    }
  }
  return absl::OkStatus();
}

absl::Status ParseOptions(const json::object& body, ChatRequest& request) {
  if (const json::value* tools = body.if_contains("tools"); tools != nullptr && !tools->is_null()) {
    LLMESH_RETURN_IF_ERROR(ParseTools(*tools, request));
  }
  if (const json::value* choice = body.if_contains("tool_choice"); choice != nullptr && !choice->is_null()) {
    LLMESH_RETURN_IF_ERROR(ParseToolChoice(*choice, request));
  }
  if (const json::value* metadata = body.if_contains("metadata");
      metadata != nullptr && !metadata->is_null()) {
    LLMESH_ASSIGN_OR_RETURN(const json::object* object, RequiredObject(*metadata, "metadata"));
    if (const json::value* user = object->if_contains("user_id"); user != nullptr && !user->is_null()) {
      LLMESH_ASSIGN_OR_RETURN(request.user, RequiredString(*object, "user_id", "metadata"));
    }
  }
  if (const json::value* stream = body.if_contains("stream"); stream != nullptr && !stream->is_null()) {
    if (!stream->is_bool()) return Invalid("stream", "Input should be a valid boolean");
    request.stream = stream->get_bool();
    request.include_usage = request.stream;
  }
  if (const json::value* config = body.if_contains("output_config"); config != nullptr && !config->is_null()) {
    LLMESH_ASSIGN_OR_RETURN(const json::object* object, RequiredObject(*config, "output_config"));
    if (const json::value* format = object->if_contains("format"); format != nullptr && !format->is_null()) {
      LLMESH_ASSIGN_OR_RETURN(const json::object* f, RequiredObject(*format, "output_config.format"));
      LLMESH_ASSIGN_OR_RETURN(std::string type, RequiredString(*f, "type", "output_config.format"));
      if (type != "json_schema") return Invalid("output_config.format.type", "Input should be 'json_schema'");
      const json::value* schema = f->if_contains("schema");
      if (schema == nullptr || !schema->is_object()) {
        return Invalid("output_config.format.schema", "Input should be a valid dictionary");
      }
      // Anthropic's structured outputs are always enforced; OpenAI needs a schema name.
      request.response_format = ResponseFormat{ResponseFormat::Kind::kJsonSchema, "response", *schema, true};
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ChatRequest> ParseAnthropicRequest(const json::object& body) {
  ChatRequest request;
  LLMESH_RETURN_IF_ERROR(ParseSampling(body, request));
  if (const json::value* system = body.if_contains("system"); system != nullptr && !system->is_null()) {
    LLMESH_RETURN_IF_ERROR(ParseSystem(*system, request.messages));
  }
  const json::value* messages = body.if_contains("messages");
  if (messages == nullptr || messages->is_null()) return Invalid("messages", "Field required");
  if (!messages->is_array()) return Invalid("messages", "Input should be a valid list");
  if (messages->get_array().empty()) return Invalid("messages", "at least one message is required");
  std::unordered_map<std::string, std::string> names;  // tool_use id → tool name
  size_t index = 0;
  for (const json::value& turn : messages->get_array()) {
    LLMESH_RETURN_IF_ERROR(ParseTurn(turn, Path("messages", index++), names, request.messages));
  }
  LLMESH_RETURN_IF_ERROR(ParseOptions(body, request));
  return request;
}

}  // namespace llmesh::provider
