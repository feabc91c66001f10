// The canonical model: one provider-neutral form of a chat request, its answer and its stream
// events, through which every client format and every provider format is translated.
//
// A client request in any supported API (OpenAI chat completions, Anthropic messages) is parsed
// into a ChatRequest once; each attempt's adapter encodes that same ChatRequest for its provider
// (Anthropic, Gemini, OpenAI-compatible) and decodes the answer into a ChatResponse or a
// sequence of StreamEvents, which the client's codec renders in the client's own format. When the
// client and the provider speak the same format the bytes pass through instead and none of this
// is built (see ClientRequest::format and ProviderAdapter).
//
// The model follows OpenAI's chat semantics where the APIs differ (tool arguments are JSON text,
// system prompts are messages, usage counts cached prompt tokens inside prompt_tokens), because
// that is the superset most clients and providers map onto. Plain values; safe to copy between
// threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "proxy/provider/failure.h"

namespace llmesh::provider {

// The wire dialect of a client API or a provider API.
enum class ApiFormat : uint8_t {
  kOpenAi,     // OpenAI chat completions / embeddings (and every OpenAI-compatible provider)
  kAnthropic,  // Anthropic messages
  kGemini,     // Google Gemini generateContent / embedContent
};

std::string_view ApiFormatName(ApiFormat format);

enum class Role : uint8_t { kSystem, kUser, kAssistant, kTool };

std::string_view RoleName(Role role);  // "system", "user", "assistant", "tool"

struct ContentPart {
  enum class Kind : uint8_t { kText, kImage };
  Kind kind = Kind::kText;
  std::string text;        // kText
  std::string media_type;  // kImage inline data: "image/png", ...
  std::string data;        // kImage inline data: base64, without the "data:...;base64," prefix
  std::string url;         // kImage by reference (http/https); empty for inline data

  static ContentPart Text(std::string text) { return ContentPart{Kind::kText, std::move(text), {}, {}, {}}; }
};

struct ToolCall {
  std::string id;         // provider or synthesized id ("call_...", "toolu_..."); never empty
  std::string name;
  std::string arguments;  // the arguments object as JSON text ("{}" when there are none)
};

struct Message {
  Role role = Role::kUser;
  std::vector<ContentPart> content;
  std::vector<ToolCall> tool_calls;  // kAssistant only
  std::string tool_call_id;          // kTool only: the call this message answers
  // kTool: the called function's name when the client gave it or it could be found in an
  // earlier assistant turn (Gemini's functionResponse needs it).
  std::string name;
};

struct ToolDefinition {
  std::string name;
  std::string description;
  boost::json::value parameters;  // JSON Schema object; null when the tool takes none
};

struct ToolChoice {
  enum class Mode : uint8_t { kAuto, kNone, kRequired, kNamed };
  Mode mode = Mode::kAuto;
  std::string name;  // kNamed
};

struct ResponseFormat {
  enum class Kind : uint8_t { kText, kJsonObject, kJsonSchema };
  Kind kind = Kind::kText;
  std::string name;           // kJsonSchema
  boost::json::value schema;  // kJsonSchema
  bool strict = false;        // kJsonSchema
};

struct ChatRequest {
  // In conversation order. System messages may appear anywhere; adapters of APIs with a single
  // system prompt join them, in order.
  std::vector<Message> messages;
  std::vector<ToolDefinition> tools;
  std::optional<ToolChoice> tool_choice;
  std::optional<bool> parallel_tool_calls;
  std::optional<uint64_t> max_tokens;  // max_completion_tokens / max_tokens / maxOutputTokens
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<uint64_t> top_k;
  std::optional<double> presence_penalty;
  std::optional<double> frequency_penalty;
  std::optional<int64_t> seed;
  std::vector<std::string> stop;
  uint32_t n = 1;  // choices requested; only OpenAI-format providers can give more than one
  std::optional<ResponseFormat> response_format;
  std::string user;  // end-user id for the provider's abuse monitoring
  bool stream = false;
  bool include_usage = false;  // the client asked for usage in the stream
};

enum class FinishReason : uint8_t {
  kStop,           // natural end or a stop sequence
  kLength,         // max tokens or the context window
  kToolCalls,      // the model called tools
  kContentFilter,  // a safety or policy filter cut or blocked the answer
};

std::string_view FinishReasonName(FinishReason reason);  // OpenAI's names: "stop", ...

struct ChatResponse {
  std::string id;     // the provider's response id (a synthesized one when it sent none)
  std::string model;  // the model that answered, as the provider named it
  int64_t created = 0;  // unix seconds
  std::string text;       // the answer's text (empty when it only called tools)
  std::string reasoning;  // thinking text the provider returned, if any
  std::vector<ToolCall> tool_calls;
  FinishReason finish_reason = FinishReason::kStop;
  std::string stop_sequence;  // the stop sequence that ended it, when the provider says
  Usage usage;
};

// One step of a streamed answer, in order: kStart once, then any of kText, kReasoning,
// kToolCallStart (with its kToolCallArguments after it), then kFinish once, then kUsage at most
// once. Tool calls are numbered 0, 1, ... in the order they start.
struct StreamEvent {
  enum class Kind : uint8_t { kStart, kText, kReasoning, kToolCallStart, kToolCallArguments, kFinish, kUsage };
  Kind kind = Kind::kText;
  std::string text;      // kText, kReasoning; kToolCallArguments: a fragment of the JSON text
  uint32_t tool_index = 0;  // kToolCallStart, kToolCallArguments
  std::string id;        // kStart: response id; kToolCallStart: call id
  std::string name;      // kStart: model; kToolCallStart: function name
  FinishReason finish_reason = FinishReason::kStop;  // kFinish
  Usage usage;           // kUsage (also the best known usage on kFinish)
};

// An event of `kind` with `text` (for kText, kReasoning, kToolCallArguments); the other fields
// keep their defaults for the caller to fill.
StreamEvent MakeStreamEvent(StreamEvent::Kind kind, std::string_view text = {});

struct EmbeddingsRequest {
  std::vector<std::string> inputs;  // texts; token-array inputs only pass through to OpenAI
  std::optional<uint32_t> dimensions;
};

struct EmbeddingsResponse {
  std::string model;
  std::vector<std::vector<double>> vectors;  // one per input, in order
  Usage usage;
};

}  // namespace llmesh::provider
