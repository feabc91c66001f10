#include "proxy/provider/provider.h"

#include <optional>
#include <utility>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "proxy/provider/common/json_fields.h"
#include "proxy/provider/common/text.h"

namespace llmesh::provider {
namespace {

absl::Status Invalid(std::string_view message, std::string_view param) {
  absl::Status status = absl::InvalidArgumentError(AbslView(message));
  if (!param.empty()) status.SetPayload(AbslView(kParamPayloadKey), absl::Cord(AbslView(param)));
  return status;
}

}  // namespace

std::string ParamOf(const absl::Status& status) {
  const auto param = status.GetPayload(AbslView(kParamPayloadKey));
  return param ? std::string(*param) : std::string();
}

absl::StatusOr<ClientRequest> ParseClientRequest(Operation operation, std::string_view body) {
  boost::system::error_code ec;
  // One arena per request for the whole tree: a single allocation for most bodies, freed at once.
  boost::json::value parsed(boost::json::make_shared_resource<boost::json::monotonic_resource>());
  if (!ParseJson(body, parsed, ec)) {
    return Invalid(absl::StrCat("We could not parse the JSON body of your request: ", ec.message()), "");
  }
  if (!parsed.is_object()) {
    return Invalid("We could not parse the JSON body of your request: expected a JSON object", "");
  }
  // Constructed (not assigned) from the parsed object so that the tree keeps its arena.
  ClientRequest request{.operation = operation,
                        .format = ApiFormat::kOpenAi,
                        .body = std::move(parsed.get_object()),
                        .raw = std::string(body),
                        .model = {},
                        .stream = false,
                        .include_usage = false,
                        .chat = std::nullopt,
                        .embeddings = std::nullopt};
  const boost::json::object& object = request.body;

  const boost::json::value* model = object.if_contains("model");
  if (model == nullptr || model->is_null()) return Invalid("'model' is required", "model");
  if (!model->is_string()) return Invalid("'model' must be a string", "model");
  if (model->get_string().empty()) return Invalid("'model' is required", "model");
  request.model = std::string(model->get_string());

  if (operation == Operation::kEmbeddings) {
    const boost::json::value* input = object.if_contains("input");
    if (input == nullptr || input->is_null()) return Invalid("'input' is required", "input");
    return request;
  }

  const boost::json::value* messages = object.if_contains("messages");
  if (messages == nullptr || !messages->is_array() || messages->get_array().empty()) {
    return Invalid("'messages' must be a non-empty array", "messages");
  }
  if (const boost::json::value* stream = object.if_contains("stream");
      stream != nullptr && !stream->is_null()) {
    if (!stream->is_bool()) return Invalid("'stream' must be a boolean", "stream");
    request.stream = stream->get_bool();
  }
  if (const boost::json::value* options = object.if_contains("stream_options");
      request.stream && options != nullptr && !options->is_null()) {
    if (!options->is_object()) return Invalid("'stream_options' must be an object", "stream_options");
    const boost::json::value* include = options->get_object().if_contains("include_usage");
    request.include_usage = include != nullptr && include->is_bool() && include->get_bool();
  }
  return request;
}

}  // namespace llmesh::provider
