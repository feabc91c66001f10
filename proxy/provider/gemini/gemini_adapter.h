// ProviderAdapter for Google's Gemini API (Generative Language API with AI Studio keys,
// wire-formats §3): chat through generateContent / streamGenerateContent, embeddings through
// batchEmbedContents.
//
// No client speaks Gemini, so nothing passes through: Encode always encodes the canonical
// request (ClientRequest::chat / ::embeddings; FAILED_PRECONDITION from NoCanonicalForm when
// it is missing, so the failover layer skips the target) and answers come back in canonical
// form (DecodedResponse::chat / ::embeddings, Progress::events).
//
// Encode: POST `{base_path}/models/{model}:generateContent`, or
// `:streamGenerateContent?alt=sse` for streams, body from EncodeGeminiRequest with
// maxOutputTokens = max_tokens, else TargetCall::max_output_tokens when configured; embeddings
// POST `{base_path}/models/{model}:batchEmbedContents` (EncodeGeminiEmbeddings). A model that
// already names a resource ("tunedModels/x") is used as is. Headers: `x-goog-api-key: <key>`
// (none when the key is empty), `content-type: application/json`, `accept`
// (text/event-stream for streams). FAILED_PRECONDITION also for what Gemini cannot express
// (gemini_request.h).
//
// Decode: DecodeGeminiChatResponse / DecodeGeminiEmbeddingsResponse (gemini_response.h); an
// embeddings answer is labelled with the client's model alias, as Gemini's names none.
// DecodeError: MapHttpError, which reads Google's `{"error":{code,status,details}}` envelope
// (also array-wrapped): 429 RESOURCE_EXHAUSTED → kRateLimited with RetryInfo.retryDelay as
// retry_after (kQuota for a per-day quota), 503 UNAVAILABLE → kOverloaded, 400
// INVALID_ARGUMENT → kInvalidRequest (kContextLength on a token-count message, kAuth for
// API_KEY_INVALID and FAILED_PRECONDITION), 401/403 → kAuth, 404 → kModelNotFound.
// Streams: GeminiStreamDecoder.
//
// Stateless; all methods are thread-safe.
#pragma once

#include <memory>
#include <string_view>

#include "proxy/provider/provider.h"

namespace llmesh::provider {

class GeminiAdapter final : public ProviderAdapter {
 public:
  GeminiAdapter() = default;

  ApiFormat format() const override { return ApiFormat::kGemini; }
  absl::StatusOr<EncodedRequest> Encode(const ClientRequest& request,
                                        const TargetCall& call) const override;
  DecodedResponse Decode(const ClientRequest& request, int status,
                         std::string_view body) const override;
  UpstreamFailure DecodeError(int status, const boost::beast::http::fields& headers,
                              std::string_view body, absl::Time now) const override;
  std::unique_ptr<StreamDecoder> NewStreamDecoder(const ClientRequest& request) const override;
};

}  // namespace llmesh::provider
