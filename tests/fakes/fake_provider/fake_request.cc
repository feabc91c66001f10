#include "tests/fakes/fake_provider/fake_request.h"

#include <algorithm>
#include <cstdint>

namespace llmesh::fakes {

std::optional<std::string_view> StringField(const boost::json::object& object,
                                            std::string_view key) {
  const boost::json::value* value =
      object.if_contains(boost::json::string_view(key.data(), key.size()));
  if (value == nullptr || !value->is_string()) return std::nullopt;
  const boost::json::string& text = value->get_string();
  return std::string_view(text.data(), text.size());
}

bool BoolField(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value =
      object.if_contains(boost::json::string_view(key.data(), key.size()));
  return value != nullptr && value->is_bool() && value->get_bool();
}

std::optional<int64_t> IntField(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value =
      object.if_contains(boost::json::string_view(key.data(), key.size()));
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->get_int64();
  if (value->is_uint64() && value->get_uint64() <= INT64_MAX) {
    return static_cast<int64_t>(value->get_uint64());
  }
  return std::nullopt;
}

ChatAnswer MakeChatAnswer(const FakeScript& script, bool failing, size_t body_bytes) {
  ChatAnswer answer;
  answer.tokens.prompt = PromptTokens(body_bytes);
  answer.tokens.cached = std::min(script.cached_tokens, answer.tokens.prompt);
  answer.tokens.reasoning = script.reasoning_tokens;
  if (failing && script.blocked) {
    answer.blocked = true;
    answer.pieces = 0;
    answer.tokens.output = 0;
    answer.tokens.reasoning = 0;
  } else if (script.tool_call.empty()) {
    answer.pieces = script.chunks;
    answer.tokens.output = script.chunks;
  } else {
    answer.pieces = 0;
    answer.tokens.output = 1;
    answer.tool.emplace(script.tool_call, script.tool_arguments);
  }
  return answer;
}

}  // namespace llmesh::fakes
