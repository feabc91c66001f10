// The ResponseSink of the Anthropic-compatible endpoint (/v1/messages): translated answers
// rendered as a Messages `message` and its SSE event sequence, stream failures as
// `event: error` frames.
//
// Threading: one sink per request, used on the worker's executor only.
#pragma once

#include <optional>

#include "proxy/codec/client_sink.h"
#include "proxy/provider/anthropic/anthropic_stream_encoder.h"

namespace llmesh::codec {

class AnthropicSink final : public ClientSink {
 public:
  using ClientSink::ClientSink;

 private:
  absl::StatusOr<std::string> RenderBody(const provider::DecodedResponse& decoded) override;
  void EncodeEvents(const std::vector<provider::StreamEvent>& events, std::string& out) override;
  void EncodeEnd(std::string& out) override;
  std::string StreamError(const provider::UpstreamFailure& failure) override;

  provider::AnthropicStreamEncoder encoder_;
};

}  // namespace llmesh::codec
