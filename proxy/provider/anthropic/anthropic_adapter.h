// ProviderAdapter for Anthropic's Messages API (wire-formats §2).
//
// Encode: POST `{base_path}/messages` (base_url "https://api.anthropic.com/v1" gives
// "/v1/messages"). An Anthropic client's body passes through: only `model` is replaced by the
// target's model name, every other top-level member is copied byte for byte from
// ClientRequest::raw in the client's order (re-serialised from the tree only when the raw text
// cannot be split). Any other client's request is encoded from its canonical form by
// EncodeAnthropicRequest (anthropic_request.h), with max_tokens from the request, else the
// model's configured max_output_tokens, else kAnthropicDefaultMaxTokens. Headers: `x-api-key`
// (none when the key is empty), `anthropic-version: 2023-06-01`, `content-type:
// application/json`, `accept` (text/event-stream for streams). The client's own headers are
// never forwarded.
//
// Encode returns FAILED_PRECONDITION for embeddings ("Anthropic has no embeddings API"), for a
// translated request without a canonical form (NoCanonicalForm), and for what Messages cannot
// express (EncodeAnthropicRequest).
//
// Decode: DecodeAnthropicResponse (anthropic_response.h): passthrough bodies go back unchanged;
// others become a ChatResponse. DecodeError: MapHttpError, which classifies Anthropic's error
// envelope (529 overloaded_error → kOverloaded) and takes retry_after from `retry-after` and the
// `anthropic-ratelimit-*-reset` timestamps. Streams: AnthropicStreamDecoder.
//
// Stateless; all methods are thread-safe.
#pragma once

#include <memory>
#include <string_view>

#include "proxy/provider/provider.h"

namespace llmesh::provider {

class AnthropicAdapter final : public ProviderAdapter {
 public:
  AnthropicAdapter() = default;

  ApiFormat format() const override { return ApiFormat::kAnthropic; }
  absl::StatusOr<EncodedRequest> Encode(const ClientRequest& request,
                                        const TargetCall& call) const override;
  DecodedResponse Decode(const ClientRequest& request, int status,
                         std::string_view body) const override;
  UpstreamFailure DecodeError(int status, const boost::beast::http::fields& headers,
                              std::string_view body, absl::Time now) const override;
  std::unique_ptr<StreamDecoder> NewStreamDecoder(const ClientRequest& request) const override;
};

}  // namespace llmesh::provider
