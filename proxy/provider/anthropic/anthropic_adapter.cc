#include "proxy/provider/anthropic/anthropic_adapter.h"

#include <string>
#include <utility>

#include <boost/json/serialize.hpp>

#include "absl/status/status.h"
#include "common/absl_view.h"
#include "proxy/provider/anthropic/anthropic_request.h"
#include "proxy/provider/anthropic/anthropic_response.h"
#include "proxy/provider/anthropic/anthropic_stream_decoder.h"
#include "proxy/provider/common/error_mapping.h"
#include "proxy/provider/common/json_members.h"
#include "proxy/provider/common/target_path.h"

namespace llmesh::provider {
namespace {

namespace json = boost::json;

json::string_view JsonView(std::string_view s) { return json::string_view(s.data(), s.size()); }

// The client's body with `model` replaced, every other member as the client wrote it.
std::string RewriteModel(const ClientRequest& request, std::string_view model) {
  if (std::optional<std::string> body = RawWithModel(request, model)) return *std::move(body);
  const std::string quoted_model = json::serialize(JsonView(model));
  JsonMembers members;
  if (!SplitTopLevelMembers(request.raw, members)) {
    json::value storage;
    json::object body = JsonTreeOf(request, storage);
    body["model"] = JsonView(model);
    return json::serialize(body);
  }
  std::string out;
  out.reserve(request.raw.size() + model.size() + 16);
  out.push_back('{');
  bool wrote_model = false;
  for (const JsonMember& member : members) {
    if (out.size() > 1) out.push_back(',');
    out.append(member.key);
    out.push_back(':');
    if (KeyIs(member.key, "model")) {
      out.append(quoted_model);
      wrote_model = true;
    } else {
      out.append(member.value);
    }
  }
  if (!wrote_model) {
    if (out.size() > 1) out.push_back(',');
    out.append("\"model\":");
    out.append(quoted_model);
  }
  out.push_back('}');
  return out;
}

}  // namespace

absl::StatusOr<EncodedRequest> AnthropicAdapter::Encode(const ClientRequest& request,
                                                        const TargetCall& call) const {
  if (request.operation == Operation::kEmbeddings) {
    return absl::FailedPreconditionError("Anthropic has no embeddings API");
  }
  const bool passthrough = PassesThrough(request);
  if (!passthrough && !request.chat) return NoCanonicalForm(request);

  EncodedRequest encoded;
  encoded.method = boost::beast::http::verb::post;
  encoded.target = JoinTargetPath(call.base_path, "/messages");
  if (passthrough) {
    encoded.body = RewriteModel(request, call.model);
  } else {
    absl::StatusOr<std::string> body = EncodeAnthropicRequest(*request.chat, call.model, call.max_output_tokens);
    if (!body.ok()) return std::move(body).status();
    encoded.body = *std::move(body);
  }
  const bool stream = passthrough ? request.stream : request.chat->stream;
  if (!call.api_key.empty()) encoded.headers.emplace_back("x-api-key", std::string(call.api_key));
  encoded.headers.emplace_back("anthropic-version", std::string(kAnthropicVersion));
  encoded.headers.emplace_back("content-type", "application/json");
  encoded.headers.emplace_back("accept", stream ? "text/event-stream" : "application/json");
  return encoded;
}

DecodedResponse AnthropicAdapter::Decode(const ClientRequest& request, int status,
                                         std::string_view body) const {
  return DecodeAnthropicResponse(status, body, PassesThrough(request));
}

UpstreamFailure AnthropicAdapter::DecodeError(int status, const boost::beast::http::fields& headers,
                                              std::string_view body, absl::Time now) const {
  return MapHttpError(status, headers, body, now);
}

std::unique_ptr<StreamDecoder> AnthropicAdapter::NewStreamDecoder(const ClientRequest& request) const {
  return std::make_unique<AnthropicStreamDecoder>(/*translate=*/!PassesThrough(request));
}

}  // namespace llmesh::provider
