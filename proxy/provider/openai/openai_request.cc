#include "proxy/provider/openai/openai_request.h"

#include <algorithm>
#include <utility>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "proxy/provider/common/json_fields.h"

namespace llmesh::provider {
namespace {

namespace json = boost::json;

absl::Status Invalid(std::string_view path, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(AbslView(path), ": ", AbslView(what)));
}

absl::Status Untranslatable(std::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat(AbslView(what), " cannot be translated to another provider's API"));
}

std::string_view View(const json::string& s) { return std::string_view(s.data(), s.size()); }

std::optional<double> Number(const json::value* value) {
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (value->is_double()) return value->get_double();
  if (value->is_int64()) return static_cast<double>(value->get_int64());
  if (value->is_uint64()) return static_cast<double>(value->get_uint64());
  return std::nullopt;
}

// "data:image/png;base64,iVBOR..." → media type and base64 data; anything else is a URL.
absl::StatusOr<ContentPart> ImagePart(std::string_view url, std::string_view path) {
  ContentPart part;
  part.kind = ContentPart::Kind::kImage;
  if (!url.starts_with("data:")) {
    if (!url.starts_with("http://") && !url.starts_with("https://")) return Invalid(path, "must be an http(s) or data URL");
    part.url = std::string(url);
    return part;
  }
  const size_t comma = url.find(',');
  const std::string_view meta = url.substr(5, comma == std::string_view::npos ? 0 : comma - 5);
  if (comma == std::string_view::npos || !meta.ends_with(";base64")) {
    return Invalid(path, "a data URL must be base64-encoded (data:<type>;base64,<data>)");
  }
  part.media_type = std::string(meta.substr(0, meta.size() - 7));
  part.data = std::string(url.substr(comma + 1));
  return part;
}

absl::StatusOr<std::vector<ContentPart>> ParseContent(const json::value* content, const std::string& path) {
  std::vector<ContentPart> parts;
  if (content == nullptr || content->is_null()) return parts;
  if (content->is_string()) {
    parts.push_back(ContentPart::Text(std::string(View(content->get_string()))));
    return parts;
  }
  if (!content->is_array()) return Invalid(path, "must be a string or an array of content parts");
  size_t i = 0;
  for (const json::value& item : content->get_array()) {
    const std::string item_path = absl::StrCat(path, "[", i++, "]");
    const json::object* object = item.if_object();
    if (object == nullptr) return Invalid(item_path, "must be an object");
    const std::string_view type = StringField(*object, "type");
    if (type == "text") {
      parts.push_back(ContentPart::Text(std::string(StringField(*object, "text"))));
    } else if (type == "refusal") {
      // An earlier assistant turn's refusal (wire-formats §1.3) is what the model said: other
      // APIs have no refusal part, so it goes back to them as text.
      parts.push_back(ContentPart::Text(std::string(StringField(*object, "refusal"))));
    } else if (type == "image_url") {
      const json::value* image = object->if_contains("image_url");
      std::string_view url;
      if (image != nullptr && image->is_string()) url = View(image->get_string());
      if (image != nullptr && image->is_object()) url = StringField(image->get_object(), "url");
      absl::StatusOr<ContentPart> part = ImagePart(url, item_path + ".image_url.url");
      if (!part.ok()) return part.status();
      parts.push_back(*std::move(part));
    } else if (type == "input_audio") {
      return Untranslatable("audio input");
    } else if (type == "file") {
      return Untranslatable("file input");
    } else {
      return Invalid(item_path + ".type", absl::StrCat("unknown content part type '", AbslView(type), "'"));
    }
  }
  return parts;
}

absl::StatusOr<std::vector<ToolCall>> ParseToolCalls(const json::array& calls, const std::string& path) {
  std::vector<ToolCall> out;
  size_t i = 0;
  for (const json::value& item : calls) {
    const std::string item_path = absl::StrCat(path, "[", i++, "]");
    const json::object* call = item.if_object();
    const json::object* function = call == nullptr ? nullptr : ObjectField(*call, "function");
    if (function == nullptr) return Invalid(item_path, "must be an object with a function");
    ToolCall tool_call{std::string(StringField(*call, "id")), std::string(StringField(*function, "name")),
                       std::string(StringField(*function, "arguments"))};
    if (tool_call.id.empty() || tool_call.name.empty()) return Invalid(item_path, "needs an id and a function name");
    if (tool_call.arguments.empty()) tool_call.arguments = "{}";
    out.push_back(std::move(tool_call));
  }
  return out;
}

absl::StatusOr<Message> ParseMessage(const json::value& item, const std::string& path) {
  const json::object* object = item.if_object();
  if (object == nullptr) return Invalid(path, "must be an object");
  const std::string_view role = StringField(*object, "role");
  Message message;
  if (role == "system" || role == "developer") {
    message.role = Role::kSystem;
  } else if (role == "user") {
    message.role = Role::kUser;
  } else if (role == "assistant") {
    message.role = Role::kAssistant;
  } else if (role == "tool") {
    message.role = Role::kTool;
    message.tool_call_id = std::string(StringField(*object, "tool_call_id"));
    if (message.tool_call_id.empty()) return Invalid(path + ".tool_call_id", "is required for a tool message");
  } else if (role == "function") {
    return Untranslatable("the deprecated 'function' role");
  } else {
    return Invalid(path + ".role", absl::StrCat("unknown role '", AbslView(role), "'"));
  }
  // Only a tool message's name means something to other APIs (Gemini's functionResponse.name);
  // a participant name on other roles has no canonical form.
  if (message.role == Role::kTool) message.name = std::string(StringField(*object, "name"));
  absl::StatusOr<std::vector<ContentPart>> content = ParseContent(object->if_contains("content"), path + ".content");
  if (!content.ok()) return content.status();
  message.content = *std::move(content);
  if (message.role == Role::kAssistant) {
    if (const json::array* calls = ArrayField(*object, "tool_calls")) {
      absl::StatusOr<std::vector<ToolCall>> parsed = ParseToolCalls(*calls, path + ".tool_calls");
      if (!parsed.ok()) return parsed.status();
      message.tool_calls = *std::move(parsed);
    }
    if (ObjectField(*object, "function_call") != nullptr) return Untranslatable("the deprecated 'function_call'");
  }
  return message;
}

absl::StatusOr<std::vector<ToolDefinition>> ParseTools(const json::array& tools) {
  std::vector<ToolDefinition> out;
  size_t i = 0;
  for (const json::value& item : tools) {
    const std::string path = absl::StrCat("tools[", i++, "]");
    const json::object* tool = item.if_object();
    if (tool == nullptr) return Invalid(path, "must be an object");
    if (StringField(*tool, "type") != "function") return Untranslatable("a tool that is not a function");
    const json::object* function = ObjectField(*tool, "function");
    if (function == nullptr || StringField(*function, "name").empty()) {
      return Invalid(path + ".function.name", "is required");
    }
    ToolDefinition definition;
    definition.name = std::string(StringField(*function, "name"));
    definition.description = std::string(StringField(*function, "description"));
    if (const json::value* parameters = function->if_contains("parameters")) definition.parameters = *parameters;
    out.push_back(std::move(definition));
  }
  return out;
}

absl::StatusOr<ToolChoice> ParseToolChoice(const json::value& value) {
  ToolChoice choice;
  if (value.is_string()) {
    const std::string_view mode = View(value.get_string());
    if (mode == "auto") return choice;
    if (mode == "none") choice.mode = ToolChoice::Mode::kNone;
    else if (mode == "required") choice.mode = ToolChoice::Mode::kRequired;
    else return Invalid("tool_choice", absl::StrCat("unknown value '", AbslView(mode), "'"));
    return choice;
  }
  const json::object* object = value.if_object();
  if (object != nullptr && StringField(*object, "type") == "allowed_tools") {
    return Untranslatable("an allowed_tools tool_choice");
  }
  const json::object* function = object == nullptr ? nullptr : ObjectField(*object, "function");
  if (function == nullptr || StringField(*function, "name").empty()) {
    return Invalid("tool_choice", "must be auto, none, required or {type: function, function: {name}}");
  }
  choice.mode = ToolChoice::Mode::kNamed;
  choice.name = std::string(StringField(*function, "name"));
  return choice;
}

absl::StatusOr<ResponseFormat> ParseResponseFormat(const json::object& object) {
  ResponseFormat format;
  const std::string_view type = StringField(object, "type");
  if (type == "text") return format;
  if (type == "json_object") {
    format.kind = ResponseFormat::Kind::kJsonObject;
    return format;
  }
  if (type != "json_schema") return Invalid("response_format.type", absl::StrCat("unknown value '", AbslView(type), "'"));
  const json::object* schema = ObjectField(object, "json_schema");
  if (schema == nullptr) return Invalid("response_format.json_schema", "is required");
  format.kind = ResponseFormat::Kind::kJsonSchema;
  format.name = std::string(StringField(*schema, "name"));
  if (const json::value* s = schema->if_contains("schema")) format.schema = *s;
  if (const json::value* strict = schema->if_contains("strict"); strict != nullptr && strict->is_bool()) {
    format.strict = strict->get_bool();
  }
  return format;
}

// OpenAI tool messages carry only tool_call_id; the canonical tool message also names the
// function (Gemini requires it), found in the earlier assistant turn that made the call.
void NameToolResults(std::vector<Message>& messages) {
  for (size_t i = 0; i < messages.size(); ++i) {
    Message& result = messages[i];
    if (result.role != Role::kTool || !result.name.empty()) continue;
    for (size_t j = i; j-- > 0 && result.name.empty();) {
      for (const ToolCall& call : messages[j].tool_calls) {
        if (call.id == result.tool_call_id) {
          result.name = call.name;
          break;
        }
      }
    }
  }
}

bool IsSet(const json::object& body, std::string_view key) {
  const json::value* value = body.if_contains(key);
  return value != nullptr && !value->is_null() && !(value->is_bool() && !value->get_bool());
}

json::object EncodeMessage(const Message& message) {
  json::object out;
  out["role"] = RoleName(message.role);
  const bool text_only = std::all_of(message.content.begin(), message.content.end(),
                                     [](const ContentPart& p) { return p.kind == ContentPart::Kind::kText; });
  if (message.content.empty()) {
    out["content"] = message.tool_calls.empty() ? json::value("") : json::value(nullptr);
  } else if (text_only) {
    std::string text;
    for (const ContentPart& part : message.content) text += part.text;
    out["content"] = text;
  } else {
    json::array parts;
    for (const ContentPart& part : message.content) {
      if (part.kind == ContentPart::Kind::kText) {
        parts.push_back(json::object{{"type", "text"}, {"text", part.text}});
      } else {
        const std::string url = part.url.empty() ? absl::StrCat("data:", part.media_type, ";base64,", part.data) : part.url;
        parts.push_back(json::object{{"type", "image_url"}, {"image_url", json::object{{"url", url}}}});
      }
    }
    out["content"] = std::move(parts);
  }
  if (!message.tool_calls.empty()) {
    json::array calls;
    for (const ToolCall& call : message.tool_calls) {
      calls.push_back(json::object{{"id", call.id},
                                   {"type", "function"},
                                   {"function", json::object{{"name", call.name}, {"arguments", call.arguments}}}});
    }
    out["tool_calls"] = std::move(calls);
  }
  if (message.role == Role::kTool) out["tool_call_id"] = message.tool_call_id;
  return out;
}

}  // namespace

absl::StatusOr<ChatRequest> ParseOpenAiChatRequest(const json::object& body) {
  // Features other APIs have no equivalent for; dropping them would change the answer.
  if (IsSet(body, "logprobs") || IsSet(body, "top_logprobs")) return Untranslatable("logprobs");
  if (const json::object* bias = ObjectField(body, "logit_bias"); bias != nullptr && !bias->empty()) {
    return Untranslatable("logit_bias");
  }
  if (IsSet(body, "audio")) return Untranslatable("audio output");
  if (const json::array* modalities = ArrayField(body, "modalities")) {
    for (const json::value& m : *modalities) {
      if (!m.is_string() || View(m.get_string()) != "text") return Untranslatable("non-text output modalities");
    }
  }

  ChatRequest request;
  const json::array* messages = ArrayField(body, "messages");
  if (messages == nullptr) return Invalid("messages", "must be an array");
  request.messages.reserve(messages->size());
  size_t i = 0;
  for (const json::value& item : *messages) {
    absl::StatusOr<Message> message = ParseMessage(item, absl::StrCat("messages[", i++, "]"));
    if (!message.ok()) return message.status();
    request.messages.push_back(*std::move(message));
  }
  NameToolResults(request.messages);
  if (const json::array* tools = ArrayField(body, "tools")) {
    absl::StatusOr<std::vector<ToolDefinition>> parsed = ParseTools(*tools);
    if (!parsed.ok()) return parsed.status();
    request.tools = *std::move(parsed);
  }
  if (const json::value* choice = body.if_contains("tool_choice"); choice != nullptr && !choice->is_null()) {
    absl::StatusOr<ToolChoice> parsed = ParseToolChoice(*choice);
    if (!parsed.ok()) return parsed.status();
    request.tool_choice = *std::move(parsed);
  }
  if (const json::value* parallel = body.if_contains("parallel_tool_calls"); parallel != nullptr && parallel->is_bool()) {
    request.parallel_tool_calls = parallel->get_bool();
  }
  request.max_tokens = UintField(body, "max_completion_tokens");
  if (!request.max_tokens) request.max_tokens = UintField(body, "max_tokens");
  request.temperature = Number(body.if_contains("temperature"));
  request.top_p = Number(body.if_contains("top_p"));
  request.presence_penalty = Number(body.if_contains("presence_penalty"));
  request.frequency_penalty = Number(body.if_contains("frequency_penalty"));
  request.seed = IntField(body, "seed");
  if (const json::value* stop = body.if_contains("stop"); stop != nullptr && !stop->is_null()) {
    if (stop->is_string()) {
      request.stop.emplace_back(View(stop->get_string()));
    } else if (stop->is_array()) {
      for (const json::value& s : stop->get_array()) {
        if (!s.is_string()) return Invalid("stop", "must be a string or an array of strings");
        request.stop.emplace_back(View(s.get_string()));
      }
    } else {
      return Invalid("stop", "must be a string or an array of strings");
    }
  }
  if (std::optional<uint64_t> n = UintField(body, "n")) request.n = static_cast<uint32_t>(std::min<uint64_t>(*n, 128));
  if (const json::object* format = ObjectField(body, "response_format")) {
    absl::StatusOr<ResponseFormat> parsed = ParseResponseFormat(*format);
    if (!parsed.ok()) return parsed.status();
    request.response_format = *std::move(parsed);
  }
  request.user = std::string(StringField(body, "user"));
  if (const json::value* stream = body.if_contains("stream"); stream != nullptr && stream->is_bool()) {
    request.stream = stream->get_bool();
  }
  if (const json::object* options = ObjectField(body, "stream_options"); request.stream && options != nullptr) {
    const json::value* include = options->if_contains("include_usage");
    request.include_usage = include != nullptr && include->is_bool() && include->get_bool();
  }
  return request;
}

std::string EncodeOpenAiChatRequest(const ChatRequest& request, std::string_view model, OutputCapField cap_field) {
  json::object out;
  out["model"] = model;
  json::array messages;
  for (const Message& message : request.messages) messages.push_back(EncodeMessage(message));
  out["messages"] = std::move(messages);
  if (!request.tools.empty()) {
    json::array tools;
    for (const ToolDefinition& tool : request.tools) {
      json::object function{{"name", tool.name}};
      if (!tool.description.empty()) function["description"] = tool.description;
      if (!tool.parameters.is_null()) function["parameters"] = tool.parameters;
      tools.push_back(json::object{{"type", "function"}, {"function", std::move(function)}});
    }
    out["tools"] = std::move(tools);
  }
  // OpenAI refuses tool_choice and parallel_tool_calls without tools, which other APIs allow.
  if (request.tool_choice && !request.tools.empty()) {
    switch (request.tool_choice->mode) {
      case ToolChoice::Mode::kAuto: out["tool_choice"] = "auto"; break;
      case ToolChoice::Mode::kNone: out["tool_choice"] = "none"; break;
      case ToolChoice::Mode::kRequired: out["tool_choice"] = "required"; break;
      case ToolChoice::Mode::kNamed:
        out["tool_choice"] = json::object{{"type", "function"}, {"function", json::object{{"name", request.tool_choice->name}}}};
        break;
    }
  }
  if (request.parallel_tool_calls && !request.tools.empty()) out["parallel_tool_calls"] = *request.parallel_tool_calls;
  if (request.max_tokens) {
    out[cap_field == OutputCapField::kMaxTokens ? "max_tokens" : "max_completion_tokens"] = *request.max_tokens;
  }
  if (request.temperature) out["temperature"] = *request.temperature;
  if (request.top_p) out["top_p"] = *request.top_p;
  if (request.presence_penalty) out["presence_penalty"] = *request.presence_penalty;
  if (request.frequency_penalty) out["frequency_penalty"] = *request.frequency_penalty;
  if (request.seed) out["seed"] = *request.seed;
  if (!request.stop.empty()) {
    json::array stop;
    for (const std::string& s : request.stop) stop.push_back(json::string(s));
    out["stop"] = std::move(stop);
  }
  if (request.n != 1) out["n"] = request.n;
  if (request.response_format) {
    const ResponseFormat& format = *request.response_format;
    switch (format.kind) {
      case ResponseFormat::Kind::kText: out["response_format"] = json::object{{"type", "text"}}; break;
      case ResponseFormat::Kind::kJsonObject: out["response_format"] = json::object{{"type", "json_object"}}; break;
      case ResponseFormat::Kind::kJsonSchema: {
        json::object schema{{"name", format.name.empty() ? std::string("response") : format.name},
                            {"schema", format.schema}};
        if (format.strict) schema["strict"] = true;
        out["response_format"] = json::object{{"type", "json_schema"}, {"json_schema", std::move(schema)}};
        break;
      }
    }
  }
  if (!request.user.empty()) out["user"] = request.user;
  if (request.stream) {
    out["stream"] = true;
    out["stream_options"] = json::object{{"include_usage", true}};
  }
  return json::serialize(out);
}

absl::StatusOr<EmbeddingsRequest> ParseOpenAiEmbeddingsRequest(const json::object& body) {
  EmbeddingsRequest request;
  const json::value* input = body.if_contains("input");
  if (input == nullptr || input->is_null()) return Invalid("input", "is required");
  if (input->is_string()) {
    request.inputs.emplace_back(View(input->get_string()));
  } else if (input->is_array()) {
    for (const json::value& item : input->get_array()) {
      if (!item.is_string()) return Untranslatable("token-array embeddings input");
      request.inputs.emplace_back(View(item.get_string()));
    }
  } else {
    return Invalid("input", "must be a string or an array");
  }
  if (std::optional<uint64_t> dimensions = UintField(body, "dimensions")) {
    request.dimensions = static_cast<uint32_t>(*dimensions);
  }
  return request;
}

std::string EncodeOpenAiEmbeddingsRequest(const EmbeddingsRequest& request, std::string_view model) {
  json::array inputs;
  for (const std::string& input : request.inputs) inputs.push_back(json::string(input));
  json::object out{{"model", model}, {"input", std::move(inputs)}};
  if (request.dimensions) out["dimensions"] = *request.dimensions;
  return json::serialize(out);
}

}  // namespace llmesh::provider
