#include "proxy/provider/gemini/gemini_adapter.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "proxy/provider/common/error_mapping.h"
#include "proxy/provider/common/target_path.h"
#include "proxy/provider/gemini/gemini_request.h"
#include "proxy/provider/gemini/gemini_response.h"
#include "proxy/provider/gemini/gemini_stream_decoder.h"

namespace llmesh::provider {

absl::StatusOr<EncodedRequest> GeminiAdapter::Encode(const ClientRequest& request,
                                                     const TargetCall& call) const {
  const bool chat = request.operation == Operation::kChatCompletions;
  const bool stream = chat && request.stream;
  EncodedRequest encoded;
  encoded.method = boost::beast::http::verb::post;
  if (chat) {
    if (!request.chat) return NoCanonicalForm(request);
    absl::StatusOr<std::string> body = EncodeGeminiRequest(*request.chat, call.max_output_tokens);
    if (!body.ok()) return body.status();
    encoded.body = *std::move(body);
  } else {
    if (!request.embeddings) return NoCanonicalForm(request);
    absl::StatusOr<std::string> body = EncodeGeminiEmbeddings(*request.embeddings, call.model);
    if (!body.ok()) return body.status();
    encoded.body = *std::move(body);
  }
  const std::string_view method = !chat ? ":batchEmbedContents"
                                  : stream ? ":streamGenerateContent?alt=sse"
                                           : ":generateContent";
  encoded.target = JoinTargetPath(
      call.base_path, absl::StrCat("/", GeminiModelResource(call.model), AbslView(method)));
  if (!call.api_key.empty()) encoded.headers.emplace_back("x-goog-api-key", std::string(call.api_key));
  encoded.headers.emplace_back("content-type", "application/json");
  encoded.headers.emplace_back("accept", stream ? "text/event-stream" : "application/json");
  return encoded;
}

DecodedResponse GeminiAdapter::Decode(const ClientRequest& request, int status,
                                      std::string_view body) const {
  if (request.operation == Operation::kEmbeddings) {
    return DecodeGeminiEmbeddingsResponse(status, body, request.model);
  }
  return DecodeGeminiChatResponse(status, body);
}

UpstreamFailure GeminiAdapter::DecodeError(int status, const boost::beast::http::fields& headers,
                                           std::string_view body, absl::Time now) const {
  return MapHttpError(status, headers, body, now);
}

std::unique_ptr<StreamDecoder> GeminiAdapter::NewStreamDecoder(const ClientRequest& /*request*/) const {
  return std::make_unique<GeminiStreamDecoder>();
}

}  // namespace llmesh::provider
