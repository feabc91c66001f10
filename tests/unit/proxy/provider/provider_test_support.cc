#include "tests/unit/proxy/provider/provider_test_support.h"

#include "gtest/gtest.h"

namespace llmesh::provider::testing {

StreamEvent StartEvent(std::string id, std::string model) {
  StreamEvent event;
  event.kind = StreamEvent::Kind::kStart;
  event.id = std::move(id);
  event.name = std::move(model);
  return event;
}

StreamEvent ContentEvent(StreamEvent::Kind kind, std::string text, uint32_t tool_index) {
  StreamEvent event;
  event.kind = kind;
  event.text = std::move(text);
  event.tool_index = tool_index;
  return event;
}

StreamEvent ToolCallStartEvent(uint32_t index, std::string id, std::string name) {
  StreamEvent event;
  event.kind = StreamEvent::Kind::kToolCallStart;
  event.tool_index = index;
  event.id = std::move(id);
  event.name = std::move(name);
  return event;
}

StreamEvent FinishEvent(FinishReason reason, Usage usage) {
  StreamEvent event;
  event.kind = StreamEvent::Kind::kFinish;
  event.finish_reason = reason;
  event.usage = usage;
  return event;
}

StreamEvent UsageEvent(Usage usage) {
  StreamEvent event;
  event.kind = StreamEvent::Kind::kUsage;
  event.usage = usage;
  return event;
}

std::vector<std::pair<std::string, std::string>> HeaderList(const EncodedRequest& encoded) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : encoded.headers) headers.emplace_back(std::string(name), value);
  return headers;
}

ClientRequest ParsedClientRequest(Operation operation, std::string_view body, ApiFormat format) {
  absl::StatusOr<ClientRequest> request = ParseClientRequest(operation, std::string(body), format);
  EXPECT_TRUE(request.ok()) << request.status();
  return request.ok() ? *std::move(request) : ClientRequest{};
}

}  // namespace llmesh::provider::testing
