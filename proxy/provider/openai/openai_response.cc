#include "proxy/provider/openai/openai_response.h"

#include "proxy/provider/common/json_fields.h"

namespace llmesh::provider {
namespace {

std::optional<Usage> FromUsageObject(const boost::json::object* usage) {
  if (usage == nullptr) return std::nullopt;
  const std::optional<uint64_t> prompt = UintField(*usage, "prompt_tokens");
  const std::optional<uint64_t> completion = UintField(*usage, "completion_tokens");
  if (!prompt && !completion) return std::nullopt;
  return Usage{prompt.value_or(0), completion.value_or(0)};
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

}  // namespace llmesh::provider
