#include "proxy/provider/gemini/gemini_request.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "proxy/provider/common/json_fields.h"
#include "proxy/provider/gemini/gemini_call_ids.h"
#include "proxy/provider/gemini/gemini_schema.h"

namespace llmesh::provider {
namespace {

namespace json = boost::json;

absl::Status Refuse(std::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat(AbslView(what), " cannot be sent to Gemini"));
}

constexpr std::string_view kDefaultImageType = "image/jpeg";

std::string_view GuessImageType(std::string_view url) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"png", "image/png"},   {"jpg", "image/jpeg"},  {"jpeg", "image/jpeg"}, {"gif", "image/gif"},
      {"webp", "image/webp"}, {"heic", "image/heic"}, {"heif", "image/heif"}};
  const std::string_view path = url.substr(0, url.find_first_of("?#"));
  const size_t dot = path.rfind('.');
  const size_t slash = path.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return kDefaultImageType;
  }
  const std::string extension = absl::AsciiStrToLower(AbslView(path.substr(dot + 1)));
  for (const auto& [ext, type] : kTypes) {
    if (extension == ext) return type;
  }
  return kDefaultImageType;
}

json::object ImagePart(const ContentPart& part) {
  if (!part.url.empty()) {
    return json::object{
        {"fileData", json::object{{"mimeType", GuessImageType(part.url)}, {"fileUri", part.url}}}};
  }
  const std::string_view type = part.media_type.empty() ? kDefaultImageType : std::string_view(part.media_type);
  return json::object{{"inlineData", json::object{{"mimeType", type}, {"data", part.data}}}};
}

// The `contents` array, merging consecutive turns of one role as Gemini expects them.
class Contents {
 public:
  void Add(std::string_view role, json::object part) {
    if (parts_ == nullptr || role != role_) {
      json::object& content = contents_.emplace_back(json::object{{"role", role}}).as_object();
      parts_ = &content["parts"].emplace_array();
      role_ = role;
      signed_call_ = false;
    }
    parts_->push_back(std::move(part));
  }

  // Adds a functionCall part; the first of each model turn carries the signature sentinel.
  void AddCall(json::object call) {
    json::object part{{"functionCall", std::move(call)}};
    const bool new_turn = parts_ == nullptr || role_ != "model";
    if (new_turn || !signed_call_) part["thoughtSignature"] = kGeminiSkipSignature;
    Add("model", std::move(part));
    signed_call_ = true;
  }

  bool empty() const { return contents_.empty(); }
  json::array Take() { return std::move(contents_); }

 private:
  json::array contents_;
  json::array* parts_ = nullptr;  // parts of the last Content
  std::string_view role_;
  bool signed_call_ = false;
};

std::string JoinedText(const Message& message) {
  std::string text;
  for (const ContentPart& part : message.content) {
    if (part.kind == ContentPart::Kind::kText) text += part.text;
  }
  return text;
}

bool HasImage(const Message& message) {
  return std::any_of(message.content.begin(), message.content.end(),
                     [](const ContentPart& p) { return p.kind == ContentPart::Kind::kImage; });
}

void AddContentParts(const Message& message, std::string_view role, Contents& contents) {
  for (const ContentPart& part : message.content) {
    if (part.kind == ContentPart::Kind::kImage) {
      contents.Add(role, ImagePart(part));
    } else if (!part.text.empty()) {
      contents.Add(role, json::object{{"text", part.text}});
    }
  }
}

absl::Status AddToolCalls(const Message& message, Contents& contents) {
  for (const ToolCall& call : message.tool_calls) {
    json::value args(json::object{});
    if (!call.arguments.empty() && (!ParseJson(call.arguments, args) || !args.is_object())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the arguments of tool call '", call.id, "' are not a JSON object, so they cannot be sent to Gemini"));
    }
    json::object function;
    if (const std::string_view id = GeminiCallId(call.id); !id.empty()) function["id"] = id;
    function["name"] = call.name;
    function["args"] = std::move(args);
    contents.AddCall(std::move(function));
  }
  return absl::OkStatus();
}

// The name of the function `tool_call_id` called, from the assistant turns before `end`.
std::string_view CalledName(const std::vector<Message>& messages, size_t end, std::string_view tool_call_id) {
  for (size_t i = end; i-- > 0;) {
    if (messages[i].role != Role::kAssistant) continue;
    for (const ToolCall& call : messages[i].tool_calls) {
      if (call.id == tool_call_id) return call.name;
    }
  }
  return {};
}

absl::StatusOr<json::object> FunctionResponse(const std::vector<Message>& messages, size_t index) {
  const Message& message = messages[index];
  if (HasImage(message)) return Refuse("an image in a tool result");
  std::string_view name = message.name;
  if (name.empty()) name = CalledName(messages, index, message.tool_call_id);
  if (name.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the tool result for call '", message.tool_call_id,
        "' names no function and answers no earlier tool call; Gemini needs the function name"));
  }
  const std::string text = JoinedText(message);
  json::value parsed;
  json::object response;
  if (ParseJson(text, parsed) && parsed.is_object()) {
    response = std::move(parsed.get_object());
  } else {
    response["result"] = text;
  }
  json::object function;
  if (const std::string_view id = GeminiCallId(message.tool_call_id); !id.empty()) function["id"] = id;
  function["name"] = name;
  function["response"] = std::move(response);
  return json::object{{"functionResponse", std::move(function)}};
}

// Adds the tool messages [begin, end) as functionResponse parts of a user turn, in the order of
// the calls they answer in the last assistant turn before them (Gemini pairs them by order).
absl::Status AddToolResults(const std::vector<Message>& messages, size_t begin, size_t end, Contents& contents) {
  const Message* assistant = nullptr;
  for (size_t i = begin; i-- > 0;) {
    if (messages[i].role == Role::kAssistant && !messages[i].tool_calls.empty()) {
      assistant = &messages[i];
      break;
    }
  }
  constexpr size_t kUnanswered = std::numeric_limits<size_t>::max();
  const auto position = [&](size_t index) -> size_t {
    if (assistant == nullptr) return kUnanswered;
    const std::vector<ToolCall>& calls = assistant->tool_calls;
    for (size_t k = 0; k < calls.size(); ++k) {
      if (calls[k].id == messages[index].tool_call_id) return k;
    }
    return kUnanswered;
  };
  std::vector<size_t> order;
  for (size_t i = begin; i < end; ++i) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return position(a) < position(b); });
  for (size_t index : order) {
    absl::StatusOr<json::object> part = FunctionResponse(messages, index);
    if (!part.ok()) return part.status();
    contents.Add("user", *std::move(part));
  }
  return absl::OkStatus();
}

absl::StatusOr<json::object> FunctionDeclaration(const ToolDefinition& tool) {
  json::object declaration{{"name", tool.name}};
  if (!tool.description.empty()) declaration["description"] = tool.description;
  if (!tool.parameters.is_null()) {
    absl::StatusOr<json::object> parameters = ToGeminiSchema(tool.parameters);
    if (!parameters.ok()) {
      return absl::Status(parameters.status().code(),
                          absl::StrCat("tool '", tool.name, "': ", parameters.status().message()));
    }
    const json::object* properties = ObjectField(*parameters, "properties");
    const bool empty_object = StringField(*parameters, "type") == "OBJECT" &&
                              (properties == nullptr || properties->empty());
    if (!parameters->empty() && !empty_object) declaration["parameters"] = *std::move(parameters);
  }
  return declaration;
}

json::object FunctionCallingConfig(const ToolChoice& choice) {
  switch (choice.mode) {
    case ToolChoice::Mode::kAuto:
      return json::object{{"mode", "AUTO"}};
    case ToolChoice::Mode::kNone:
      return json::object{{"mode", "NONE"}};
    case ToolChoice::Mode::kRequired:
      return json::object{{"mode", "ANY"}};
    case ToolChoice::Mode::kNamed:
      return json::object{{"mode", "ANY"}, {"allowedFunctionNames", json::array{json::string(choice.name)}}};
  }
  return json::object{{"mode", "AUTO"}};
}

absl::StatusOr<json::object> GenerationConfig(const ChatRequest& request, uint64_t default_max_output_tokens) {
  json::object config;
  if (request.temperature) config["temperature"] = *request.temperature;
  if (request.top_p) config["topP"] = *request.top_p;
  if (request.top_k) config["topK"] = *request.top_k;
  if (const uint64_t max_tokens = request.max_tokens.value_or(default_max_output_tokens); max_tokens > 0) {
    config["maxOutputTokens"] = std::min<uint64_t>(max_tokens, std::numeric_limits<int32_t>::max());
  }
  if (!request.stop.empty()) {
    json::array stop;
    for (const std::string& sequence : request.stop) stop.push_back(json::string(sequence));
    config["stopSequences"] = std::move(stop);
  }
  if (request.seed) {
    const int64_t seed = *request.seed;
    const bool fits = seed >= std::numeric_limits<int32_t>::min() && seed <= std::numeric_limits<int32_t>::max();
    config["seed"] = fits ? seed : static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(seed)));
  }
  if (request.presence_penalty) config["presencePenalty"] = *request.presence_penalty;
  if (request.frequency_penalty) config["frequencyPenalty"] = *request.frequency_penalty;
  if (request.response_format) {
    const ResponseFormat& format = *request.response_format;
    if (format.kind != ResponseFormat::Kind::kText) config["responseMimeType"] = "application/json";
    if (format.kind == ResponseFormat::Kind::kJsonSchema && !format.schema.is_null()) {
      absl::StatusOr<json::object> schema = ToGeminiSchema(format.schema, {.property_ordering = true});
      if (!schema.ok()) {
        return absl::Status(schema.status().code(),
                            absl::StrCat("response_format: ", schema.status().message()));
      }
      const json::object* properties = ObjectField(*schema, "properties");
      const bool empty_object = StringField(*schema, "type") == "OBJECT" &&
                                (properties == nullptr || properties->empty());
      if (!schema->empty() && !empty_object) config["responseSchema"] = *std::move(schema);
    }
  }
  return config;
}

}  // namespace

absl::StatusOr<std::string> EncodeGeminiRequest(const ChatRequest& request, uint64_t default_max_output_tokens) {
  if (request.n > 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "n=", request.n, " cannot be sent to Gemini: the answer is translated into a single choice"));
  }
  if (request.stop.size() > kMaxGeminiStopSequences) {
    return absl::FailedPreconditionError(absl::StrCat(request.stop.size(), " stop sequences cannot be sent to Gemini (at most ",
                                                      kMaxGeminiStopSequences, ")"));
  }
  json::object body;
  json::array system;
  Contents contents;
  const std::vector<Message>& messages = request.messages;
  for (size_t i = 0; i < messages.size();) {
    const Message& message = messages[i];
    switch (message.role) {
      case Role::kSystem: {
        if (HasImage(message)) return Refuse("an image in a system message");
        for (const ContentPart& part : message.content) {
          if (!part.text.empty()) system.push_back(json::object{{"text", part.text}});
        }
        ++i;
        break;
      }
      case Role::kUser:
        AddContentParts(message, "user", contents);
        ++i;
        break;
      case Role::kAssistant: {
        AddContentParts(message, "model", contents);
        if (absl::Status status = AddToolCalls(message, contents); !status.ok()) return status;
        ++i;
        break;
      }
      case Role::kTool: {
        size_t end = i;
        while (end < messages.size() && messages[end].role == Role::kTool) ++end;
        if (absl::Status status = AddToolResults(messages, i, end, contents); !status.ok()) return status;
        i = end;
        break;
      }
    }
  }
  if (!system.empty()) body["systemInstruction"] = json::object{{"parts", std::move(system)}};
  body["contents"] = contents.Take();
  if (!request.tools.empty()) {
    json::array declarations;
    for (const ToolDefinition& tool : request.tools) {
      absl::StatusOr<json::object> declaration = FunctionDeclaration(tool);
      if (!declaration.ok()) return declaration.status();
      declarations.push_back(*std::move(declaration));
    }
    body["tools"] = json::array{json::object{{"functionDeclarations", std::move(declarations)}}};
    if (request.tool_choice) {
      body["toolConfig"] = json::object{{"functionCallingConfig", FunctionCallingConfig(*request.tool_choice)}};
    }
  }
  absl::StatusOr<json::object> config = GenerationConfig(request, default_max_output_tokens);
  if (!config.ok()) return config.status();
  if (!config->empty()) body["generationConfig"] = *std::move(config);
  return json::serialize(body);
}

absl::StatusOr<std::string> EncodeGeminiEmbeddings(const EmbeddingsRequest& request, std::string_view model) {
  if (request.inputs.size() > kMaxGeminiEmbeddingInputs) {
    return absl::FailedPreconditionError(absl::StrCat(request.inputs.size(), " embedding inputs cannot be sent to Gemini in one request (at most ",
                                                      kMaxGeminiEmbeddingInputs, ")"));
  }
  const std::string resource = GeminiModelResource(model);
  json::array requests;
  for (const std::string& input : request.inputs) {
    json::object item{{"model", resource},
                      {"content", json::object{{"parts", json::array{json::object{{"text", input}}}}}}};
    if (request.dimensions) item["outputDimensionality"] = *request.dimensions;
    requests.push_back(std::move(item));
  }
  return json::serialize(json::object{{"requests", std::move(requests)}});
}

std::string GeminiModelResource(std::string_view model) {
  if (model.find('/') != std::string_view::npos) return std::string(model);
  return absl::StrCat("models/", AbslView(model));
}

}  // namespace llmesh::provider
