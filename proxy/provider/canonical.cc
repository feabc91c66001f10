#include "proxy/provider/canonical.h"

namespace llmesh::provider {

std::string_view ApiFormatName(ApiFormat format) {
  switch (format) {
    case ApiFormat::kOpenAi: return "openai";
    case ApiFormat::kAnthropic: return "anthropic";
    case ApiFormat::kGemini: return "gemini";
  }
  return "unknown";
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kSystem: return "system";
    case Role::kUser: return "user";
    case Role::kAssistant: return "assistant";
    case Role::kTool: return "tool";
  }
  return "user";
}

std::string_view FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kToolCalls: return "tool_calls";
    case FinishReason::kContentFilter: return "content_filter";
  }
  return "stop";
}

StreamEvent MakeStreamEvent(StreamEvent::Kind kind, std::string_view text) {
  StreamEvent event;
  event.kind = kind;
  event.text = std::string(text);
  return event;
}

}  // namespace llmesh::provider
