// ProviderAdapter for OpenAI and OpenAI-compatible providers (DeepSeek, Mistral, Groq,
// Together, xAI, DashScope compatible-mode, Gemini's OpenAI endpoint, vLLM, Azure's v1 API):
// a passthrough, since the client already speaks this format.
//
// Encode: POST `{base_path}/chat/completions` or `{base_path}/embeddings`; the body is the
// client's JSON with `model` replaced by the target's model name and, for streams,
// `stream_options.include_usage` forced to true (cost needs usage; the decoder drops the usage
// chunk again when the client did not ask for it). Other top-level members are copied byte
// for byte from ClientRequest::raw, in the client's order (re-serialised from the tree only
// for a request built in code). Headers: `authorization: Bearer <key>` (none when the key is
// empty), `content-type: application/json`, `accept` (text/event-stream for streams). The
// client's own headers are never forwarded.
//
// Decode: the upstream body is returned as-is (no re-serialisation) minus leading whitespace
// (DeepSeek's keep-alive blank lines); it must be a JSON object with `choices` (chat) or
// `data` (embeddings). A 2xx carrying `{"error":...}` (or `[{"error":...}]`) is a failure,
// classified like an in-stream error; `finish_reason: insufficient_system_resource` (DeepSeek)
// is kOverloaded; Together's "eos"/"eos_token" finish reasons become "stop" (only then is the
// body re-serialised). DecodeError: MapHttpError.
//
// A client of another format (Anthropic's /v1/messages) gets its canonical request encoded as an
// OpenAI body, and the answer back in canonical form (DecodedResponse::chat, Progress::events).
//
// Stateless; all methods are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "proxy/provider/provider.h"

namespace llmesh::provider {

// Where the OpenAI format is spoken, and what differs there.
enum class OpenAiDialect : uint8_t {
  // api.openai.com: a translated request's output cap goes in `max_completion_tokens` (the
  // reasoning models refuse `max_tokens`).
  kOpenAi,
  // Other OpenAI-compatible APIs (DeepSeek, Mistral, Groq, ...), which read `max_tokens`.
  kCompatible,
  // Classic Azure OpenAI: POST `{base_path}/deployments/{model}/{chat/completions|embeddings}
  // ?api-version={api_version}` with the key in an `api-key` header; caps as OpenAI.
  kAzure,
};

class OpenAiAdapter final : public ProviderAdapter {
 public:
  explicit OpenAiAdapter(OpenAiDialect dialect = OpenAiDialect::kOpenAi) : dialect_(dialect) {}

  ApiFormat format() const override { return ApiFormat::kOpenAi; }
  absl::StatusOr<EncodedRequest> Encode(const ClientRequest& request,
                                        const TargetCall& call) const override;
  DecodedResponse Decode(const ClientRequest& request, int status,
                         std::string_view body) const override;
  UpstreamFailure DecodeError(int status, const boost::beast::http::fields& headers,
                              std::string_view body, absl::Time now) const override;
  std::unique_ptr<StreamDecoder> NewStreamDecoder(const ClientRequest& request) const override;

 private:
  const OpenAiDialect dialect_;
};

}  // namespace llmesh::provider
