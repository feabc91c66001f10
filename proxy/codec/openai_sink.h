// The ResponseSink of the OpenAI-compatible endpoints (/v1/chat/completions, /v1/embeddings):
// translated answers rendered as chat.completion / chat.completion.chunk / embeddings lists,
// stream failures as `data: {"error":...}` events.
//
// Threading: one sink per request, used on the worker's executor only.
#pragma once

#include <ctime>
#include <optional>

#include "proxy/codec/client_sink.h"
#include "proxy/provider/openai/openai_stream_encoder.h"

namespace llmesh::codec {

class OpenAiSink final : public ClientSink {
 public:
  using ClientSink::ClientSink;

 private:
  absl::StatusOr<std::string> RenderBody(const provider::DecodedResponse& decoded) override;
  void EncodeEvents(const std::vector<provider::StreamEvent>& events, std::string& out) override;
  void EncodeEnd(std::string& out) override;
  std::string StreamError(const provider::UpstreamFailure& failure) override;

  std::optional<provider::OpenAiStreamEncoder> encoder_;  // created with the first events
};

}  // namespace llmesh::codec
