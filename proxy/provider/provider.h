// The provider layer's interface: pure translation between the client's request and one
// provider's wire format, with no I/O.
//
// Request path: the client's codec (proxy/codec, above) parses the client body once into a
// ClientRequest; the FailoverExecutor then asks each attempt's ProviderAdapter to Encode it,
// hands the EncodedRequest to the UpstreamPool (below), and feeds the answer back through
// Decode, DecodeError or a StreamDecoder. Adapters turn every provider failure into a typed
// UpstreamFailure (failure.h).
//
// Formats: when the client speaks the adapter's own format (ClientRequest::format equals
// ProviderAdapter::format() and the raw body is there), the adapter passes bytes through: it
// rewrites only what it must in the request and returns the provider's answer bytes as the
// client's (DecodedResponse::body, Progress::wire). Otherwise it encodes the canonical request
// (canonical.h) and returns the answer in canonical form (DecodedResponse::chat,
// Progress::events) for the client's codec to render.
//
// Layout: one folder per provider format (openai/, anthropic/, gemini/) built from shared
// helpers in common/ (SSE framing, JSON readers, error mapping, rate-limit hints);
// adapter_registry.h maps a config Provider::Kind to its adapter.
//
// Threading: adapters are stateless singletons shared by all workers; their const methods are
// thread-safe. A StreamDecoder belongs to one attempt and is used by one thread at a time.
// ClientRequest is immutable after parsing and may be read from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proxy/provider/canonical.h"
#include "proxy/provider/failure.h"

namespace llmesh::provider {

enum class Operation : uint8_t { kChatCompletions, kEmbeddings };

// A client request parsed once; reused for every attempt; never mutated after parsing.
struct ClientRequest {
  Operation operation = Operation::kChatCompletions;
  // The API the client spoke; an adapter of the same format passes the client's bytes through.
  ApiFormat format = ApiFormat::kOpenAi;
  // The client's JSON as a tree. ParseClientRequest builds it only when its one-pass reading
  // could not decide (client_request_scan.h); LoadJsonTree builds it from `raw` for the codec
  // before translating. Empty until then: passthrough never needs it. Read it through
  // JsonTreeOf where it may not have been built.
  boost::json::object body;
  // The client's body exactly as received ("" for a request built in code). Passthrough
  // adapters copy from it so the provider gets the client's bytes, not a re-serialisation.
  std::string raw;
  // Where the value of `model` (quotes included) sits in `raw`, when the one-pass reading
  // found it there; model_size is 0 otherwise.
  size_t raw_model_begin = 0;
  size_t raw_model_size = 0;
  std::string model;           // the alias the client asked for
  bool stream = false;         // `stream: true` (always false for embeddings)
  bool include_usage = false;  // stream_options.include_usage (only with stream)
  // The request in canonical form. The client's codec fills the one matching `operation` when
  // some target of the route speaks another format than the client; adapters that do not pass
  // through require it (FAILED_PRECONDITION from Encode when it is missing).
  std::optional<ChatRequest> chat;
  std::optional<EmbeddingsRequest> embeddings;
  // Why the canonical form is missing when the codec tried to build it and could not ("audio
  // input cannot be translated ..."); the reason a translating target is skipped.
  std::string untranslatable;
};

// Status payload key under which ParseClientRequest names the offending parameter.
inline constexpr std::string_view kParamPayloadKey = "llmesh/param";

// Parses and checks a client body for `operation` in the client's `format` (OpenAI chat
// completions and embeddings, or Anthropic messages). Returns INVALID_ARGUMENT with a
// client-facing message; for OpenAI:
//   "We could not parse the JSON body of your request: <reason>" (bad JSON, or not an object);
//   "'model' is required" / "'model' must be a string" (param "model");
//   "'messages' must be a non-empty array" (chat; param "messages");
//   "'input' is required" (embeddings; missing or null; param "input");
//   "'stream' must be a boolean" (chat; param "stream");
//   "'stream_options' must be an object" (chat stream; param "stream_options").
// for Anthropic, in that API's words: "model: Field required", "messages: Field required",
// "max_tokens: Field required" (a positive integer), "stream: Input should be a valid boolean".
// The offending parameter's name is attached as a status payload under kParamPayloadKey;
// the payload is absent when no single parameter is at fault (unparseable JSON).
// The body is taken, not copied: it becomes ClientRequest::raw.
absl::StatusOr<ClientRequest> ParseClientRequest(Operation operation, std::string body,
                                                 ApiFormat format = ApiFormat::kOpenAi);

// Builds `request.body` from `request.raw` when it has not been built (see ClientRequest::body).
void LoadJsonTree(ClientRequest& request);

// The client's JSON as a tree: `request.body` when it has been built (or the request was built
// in code), otherwise `request.raw` parsed into `storage`. For the rare paths of a const request
// that need the tree.
const boost::json::object& JsonTreeOf(const ClientRequest& request, boost::json::value& storage);

// For a passthrough adapter: the client's exact bytes with the value of `model` replaced by
// `model`, when the one-pass reading located it in `request.raw`; nullopt otherwise.
std::optional<std::string> RawWithModel(const ClientRequest& request, std::string_view model);

// What an adapter that must translate returns from Encode when `request` has no canonical
// form: FAILED_PRECONDITION saying why (ClientRequest::untranslatable, when the codec said).
absl::Status NoCanonicalForm(const ClientRequest& request);

// The parameter named by a ParseClientRequest error, or "" when there is none.
std::string ParamOf(const absl::Status& status);

// What one attempt sends. Views must outlive the Encode() call only.
struct TargetCall {
  std::string_view base_path;  // path part of the provider's base_url, e.g. "/v1" ("" or "/" ok)
  std::string_view model;      // the provider's model name
  std::string_view api_key;    // may be empty: then no credential header is sent
  // The model's configured output cap (Model.max_output_tokens); 0 when not configured. APIs
  // that require a cap (Anthropic's max_tokens) use it when the request has none.
  uint64_t max_output_tokens = 0;
  // Azure OpenAI's api-version query parameter; empty for other kinds.
  std::string_view api_version;
};

struct EncodedRequest {
  boost::beast::http::verb method = boost::beast::http::verb::post;
  std::string target;  // origin-form request target, e.g. "/v1/chat/completions"
  std::string body;
  // Lowercase header names (static strings) and values: credential, content-type, accept.
  // Host, content-length and the like are the upstream layer's business.
  absl::InlinedVector<std::pair<std::string_view, std::string>, 4> headers;
};

// Result of decoding a complete (non-stream) upstream response. Exactly one of `failure`,
// `body`, `chat`, `embeddings` carries the outcome.
struct DecodedResponse {
  std::optional<UpstreamFailure> failure;  // set: nothing may be sent to the client
  std::string body;                        // passthrough: the answer in the client's format
  std::optional<ChatResponse> chat;        // translated chat answer
  std::optional<EmbeddingsResponse> embeddings;  // translated embeddings answer
  Usage usage;
};

// Incremental decoder of one streamed attempt (2xx answers only).
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;

  struct Progress {
    // Passthrough: client-format bytes decoded so far and not yet taken by the caller (the
    // caller clears it). Always whole SSE events.
    std::string wire;
    // Translated: canonical events decoded so far and not yet taken by the caller (the caller
    // clears it), in stream order (see StreamEvent).
    std::vector<StreamEvent> events;
    // Set once any content event has been decoded into `wire` (role-only, empty-content,
    // empty-choices and keep-alive events are not content; text, refusal, reasoning,
    // tool_calls deltas and a finish_reason are). Never reset by the decoder.
    bool content = false;
    // The stream's terminator was seen (its client-format form is in `wire`).
    bool done = false;
    // In-stream error event or garbage; decoding stops there (events before it are in wire).
    std::optional<UpstreamFailure> failure;
  };

  // Consumes the next bytes of the upstream body (any split). Appends to progress. Input after
  // the terminator or after a failure is ignored.
  virtual void Feed(std::string_view bytes, Progress& progress) = 0;

  // The upstream body ended. Returns kReset if the terminator was never seen, the failure
  // already reported through Feed if there was one, else nullopt. APIs whose stream ends with
  // the connection (Gemini) append their last events (finish, usage) to `progress` here.
  virtual std::optional<UpstreamFailure> Finish(Progress& progress) = 0;

  // Token usage seen so far (the final usage chunk, when it arrived).
  virtual Usage usage() const = 0;
};

// Translates client requests for one provider kind. Stateless; shared by all workers.
class ProviderAdapter {
 public:
  virtual ~ProviderAdapter() = default;

  // The wire format this adapter speaks.
  virtual ApiFormat format() const = 0;

  // True when `request` can go through this adapter as bytes (same format, raw body kept).
  bool PassesThrough(const ClientRequest& request) const {
    return request.format == format() && !request.raw.empty();
  }

  // Builds the upstream request for one attempt. FAILED_PRECONDITION when this provider
  // cannot express the request.
  virtual absl::StatusOr<EncodedRequest> Encode(const ClientRequest& request,
                                                const TargetCall& call) const = 0;

  // For a 2xx status only: decodes the complete body. A malformed body or a 2xx carrying an
  // error yields `failure`; otherwise `body` (passthrough) or `chat` / `embeddings`.
  virtual DecodedResponse Decode(const ClientRequest& request, int status,
                                 std::string_view body) const = 0;

  // For a non-2xx status: the typed failure, with retry_after from headers and body hints
  // (`now` resolves absolute dates).
  virtual UpstreamFailure DecodeError(int status, const boost::beast::http::fields& headers,
                                      std::string_view body, absl::Time now) const = 0;

  // A fresh decoder for one streamed attempt of `request` (which must outlive it).
  virtual std::unique_ptr<StreamDecoder> NewStreamDecoder(const ClientRequest& request) const = 0;
};

}  // namespace llmesh::provider
