#include "proxy/codec/anthropic_sink.h"

#include "proxy/codec/error_response.h"
#include "proxy/provider/anthropic/anthropic_response.h"

namespace llmesh::codec {

absl::StatusOr<std::string> AnthropicSink::RenderBody(const provider::DecodedResponse& decoded) {
  if (decoded.chat) return provider::RenderAnthropicResponse(*decoded.chat, decoded.chat->model);
  return absl::InternalError("the provider's answer decoded to nothing renderable");
}

void AnthropicSink::EncodeEvents(const std::vector<provider::StreamEvent>& events, std::string& out) {
  for (const provider::StreamEvent& event : events) encoder_.Encode(event, out);
}

void AnthropicSink::EncodeEnd(std::string& out) { encoder_.End(out); }

std::string AnthropicSink::StreamError(const provider::UpstreamFailure& failure) {
  return AnthropicStreamError(failure);
}

}  // namespace llmesh::codec
