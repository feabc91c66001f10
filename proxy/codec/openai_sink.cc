#include "proxy/codec/openai_sink.h"

#include "proxy/codec/error_response.h"
#include "proxy/provider/openai/openai_response.h"

namespace llmesh::codec {

absl::StatusOr<std::string> OpenAiSink::RenderBody(const provider::DecodedResponse& decoded) {
  if (decoded.chat) return provider::RenderOpenAiChatResponse(*decoded.chat);
  if (decoded.embeddings) {
    boost::json::value storage;
    const boost::json::value* format = provider::JsonTreeOf(client(), storage).if_contains("encoding_format");
    const bool base64 = format != nullptr && format->is_string() && format->get_string() == "base64";
    return provider::RenderOpenAiEmbeddingsResponse(*decoded.embeddings, base64);
  }
  return absl::InternalError("the provider's answer decoded to nothing renderable");
}

void OpenAiSink::EncodeEvents(const std::vector<provider::StreamEvent>& events, std::string& out) {
  if (!encoder_) encoder_.emplace(client().include_usage, static_cast<int64_t>(std::time(nullptr)));
  for (const provider::StreamEvent& event : events) encoder_->Encode(event, out);
}

void OpenAiSink::EncodeEnd(std::string& out) {
  if (!encoder_) encoder_.emplace(client().include_usage, static_cast<int64_t>(std::time(nullptr)));
  encoder_->End(out);
}

std::string OpenAiSink::StreamError(const provider::UpstreamFailure& failure) { return OpenAiStreamError(failure); }

}  // namespace llmesh::codec
