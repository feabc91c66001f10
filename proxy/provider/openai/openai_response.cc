#include "proxy/provider/openai/openai_response.h"

#include <cstring>
#include <utility>
#include <vector>

#include <boost/json/serialize.hpp>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "proxy/provider/common/json_fields.h"

namespace llmesh::provider {
namespace {

std::optional<Usage> FromUsageObject(const boost::json::object* usage) {
  if (usage == nullptr) return std::nullopt;
  const std::optional<uint64_t> prompt = UintField(*usage, "prompt_tokens");
  const std::optional<uint64_t> completion = UintField(*usage, "completion_tokens");
  if (!prompt && !completion) return std::nullopt;
  Usage out{prompt.value_or(0), completion.value_or(0)};
  if (const boost::json::object* details = ObjectField(*usage, "prompt_tokens_details")) {
    out.cached_tokens = UintField(*details, "cached_tokens").value_or(0);
  }
  // DeepSeek reports its cache hits in a field of its own (wire-formats §5.1).
  if (out.cached_tokens == 0) out.cached_tokens = UintField(*usage, "prompt_cache_hit_tokens").value_or(0);
  if (const boost::json::object* details = ObjectField(*usage, "completion_tokens_details")) {
    out.reasoning_tokens = UintField(*details, "reasoning_tokens").value_or(0);
  }
  return out;
}

}  // namespace

std::optional<Usage> ReadOpenAiUsage(const boost::json::object& response) {
  if (std::optional<Usage> usage = FromUsageObject(ObjectField(response, "usage"))) return usage;
  if (const boost::json::object* groq = ObjectField(response, "x_groq")) {
    return FromUsageObject(ObjectField(*groq, "usage"));
  }
  return std::nullopt;
}

bool IsNonStandardStop(std::string_view finish_reason) {
  return finish_reason == "eos" || finish_reason == "eos_token";
}

bool NormalizeFinishReasons(boost::json::value& response) {
  boost::json::object* object = response.if_object();
  if (object == nullptr) return false;
  boost::json::value* choices = object->if_contains("choices");
  if (choices == nullptr || !choices->is_array()) return false;
  bool changed = false;
  for (boost::json::value& item : choices->get_array()) {
    boost::json::object* choice = item.if_object();
    if (choice == nullptr || !IsNonStandardStop(StringField(*choice, "finish_reason"))) continue;
    (*choice)["finish_reason"] = "stop";
    changed = true;
  }
  return changed;
}

std::optional<FinishReason> ParseFinishReason(std::string_view reason) {
  if (reason == "stop" || IsNonStandardStop(reason)) return FinishReason::kStop;
  if (reason == "length" || reason == "model_length") return FinishReason::kLength;
  if (reason == "tool_calls" || reason == "function_call") return FinishReason::kToolCalls;
  if (reason == "content_filter") return FinishReason::kContentFilter;
  return std::nullopt;
}

absl::StatusOr<ChatResponse> ParseOpenAiChatResponse(const boost::json::object& response) {
  const boost::json::array* choices = ArrayField(response, "choices");
  const boost::json::object* choice =
      choices == nullptr || choices->empty() ? nullptr : (*choices)[0].if_object();
  const boost::json::object* message = choice == nullptr ? nullptr : ObjectField(*choice, "message");
  if (message == nullptr) return absl::InvalidArgumentError("upstream answer has no choices[0].message");
  ChatResponse out;
  out.id = std::string(StringField(response, "id"));
  out.model = std::string(StringField(response, "model"));
  out.created = IntField(response, "created").value_or(0);
  out.text = std::string(StringField(*message, "content"));
  // Other formats have no refusal; what the model said is the answer's text.
  if (out.text.empty()) out.text = std::string(StringField(*message, "refusal"));
  out.reasoning = std::string(StringField(*message, "reasoning_content"));
  if (out.reasoning.empty()) out.reasoning = std::string(StringField(*message, "reasoning"));
  if (const boost::json::array* calls = ArrayField(*message, "tool_calls")) {
    for (const boost::json::value& item : *calls) {
      const boost::json::object* call = item.if_object();
      const boost::json::object* function = call == nullptr ? nullptr : ObjectField(*call, "function");
      if (function == nullptr) continue;
      ToolCall tool_call{std::string(StringField(*call, "id")), std::string(StringField(*function, "name")),
                         std::string(StringField(*function, "arguments"))};
      if (tool_call.arguments.empty()) tool_call.arguments = "{}";
      out.tool_calls.push_back(std::move(tool_call));
    }
  }
  out.finish_reason = ParseFinishReason(StringField(*choice, "finish_reason"))
                          .value_or(out.tool_calls.empty() ? FinishReason::kStop : FinishReason::kToolCalls);
  if (std::optional<Usage> usage = ReadOpenAiUsage(response)) out.usage = *usage;
  return out;
}

absl::StatusOr<EmbeddingsResponse> ParseOpenAiEmbeddingsResponse(const boost::json::object& response) {
  const boost::json::array* data = ArrayField(response, "data");
  if (data == nullptr) return absl::InvalidArgumentError("upstream answer has no 'data' array");
  EmbeddingsResponse out;
  out.model = std::string(StringField(response, "model"));
  out.vectors.resize(data->size());
  std::vector<bool> seen(data->size(), false);
  for (size_t i = 0; i < data->size(); ++i) {
    const boost::json::object* item = (*data)[i].if_object();
    const boost::json::array* embedding = item == nullptr ? nullptr : ArrayField(*item, "embedding");
    if (embedding == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("upstream answer's data[", i, "] has no embedding array"));
    }
    const uint64_t index = UintField(*item, "index").value_or(i);
    if (index >= seen.size() || seen[index]) {
      return absl::InvalidArgumentError(absl::StrCat("upstream answer's data[", i, "] has a bad index"));
    }
    seen[index] = true;
    std::vector<double>& vector = out.vectors[index];
    vector.reserve(embedding->size());
    for (const boost::json::value& number : *embedding) {
      if (number.is_double()) {
        vector.push_back(number.get_double());
      } else if (number.is_int64()) {
        vector.push_back(static_cast<double>(number.get_int64()));
      } else if (number.is_uint64()) {
        vector.push_back(static_cast<double>(number.get_uint64()));
      } else {
        return absl::InvalidArgumentError(absl::StrCat("upstream answer's data[", i, "] has a non-numeric embedding"));
      }
    }
  }
  if (const boost::json::object* usage = ObjectField(response, "usage")) {
    out.usage.prompt_tokens = UintField(*usage, "prompt_tokens").value_or(0);
  }
  return out;
}

boost::json::object RenderOpenAiUsage(const Usage& usage) {
  boost::json::object out{{"prompt_tokens", usage.prompt_tokens},
                          {"completion_tokens", usage.completion_tokens},
                          {"total_tokens", usage.prompt_tokens + usage.completion_tokens}};
  if (usage.cached_tokens > 0) {
    out["prompt_tokens_details"] = boost::json::object{{"cached_tokens", usage.cached_tokens}};
  }
  if (usage.reasoning_tokens > 0) {
    out["completion_tokens_details"] = boost::json::object{{"reasoning_tokens", usage.reasoning_tokens}};
  }
  return out;
}

std::string RenderOpenAiChatResponse(const ChatResponse& response) {
  boost::json::object message{{"role", "assistant"}};
  if (response.text.empty() && !response.tool_calls.empty()) {
    message["content"] = nullptr;
  } else {
    message["content"] = response.text;
  }
  if (!response.reasoning.empty()) message["reasoning_content"] = response.reasoning;
  if (!response.tool_calls.empty()) {
    boost::json::array calls;
    for (const ToolCall& call : response.tool_calls) {
      calls.push_back(boost::json::object{
          {"id", call.id},
          {"type", "function"},
          {"function", boost::json::object{{"name", call.name}, {"arguments", call.arguments}}}});
    }
    message["tool_calls"] = std::move(calls);
  }
  boost::json::object choice{{"index", 0},
                             {"message", std::move(message)},
                             {"logprobs", nullptr},
                             {"finish_reason", FinishReasonName(response.finish_reason)}};
  boost::json::object out{{"id", response.id},
                          {"object", "chat.completion"},
                          {"created", response.created},
                          {"model", response.model},
                          {"choices", boost::json::array{std::move(choice)}},
                          {"usage", RenderOpenAiUsage(response.usage)}};
  return boost::json::serialize(out);
}

std::string RenderOpenAiEmbeddingsResponse(const EmbeddingsResponse& response, bool base64) {
  boost::json::array data;
  for (size_t i = 0; i < response.vectors.size(); ++i) {
    const std::vector<double>& vector = response.vectors[i];
    boost::json::value embedding;
    if (base64) {
      std::string bytes(vector.size() * sizeof(float), '\0');
      for (size_t j = 0; j < vector.size(); ++j) {
        const float value = static_cast<float>(vector[j]);
        std::memcpy(bytes.data() + j * sizeof(float), &value, sizeof(float));  // x86-64 and arm64: little-endian
      }
      embedding = boost::json::string(absl::Base64Escape(bytes));
    } else {
      boost::json::array numbers;
      numbers.reserve(vector.size());
      for (double value : vector) numbers.push_back(value);
      embedding = std::move(numbers);
    }
    data.push_back(boost::json::object{{"object", "embedding"}, {"index", i}, {"embedding", std::move(embedding)}});
  }
  boost::json::object out{{"object", "list"},
                          {"data", std::move(data)},
                          {"model", response.model},
                          {"usage", boost::json::object{{"prompt_tokens", response.usage.prompt_tokens},
                                                        {"total_tokens", response.usage.prompt_tokens}}}};
  return boost::json::serialize(out);
}

}  // namespace llmesh::provider
