#include "proxy/provider/provider.h"

#include <memory>
#include <optional>
#include <utility>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "proxy/provider/client_request_scan.h"
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

namespace {

// The Anthropic messages checks, after the JSON itself parsed; `request.body` is the object.
absl::Status CheckAnthropicRequest(ClientRequest& request) {
  const boost::json::object& object = request.body;
  const boost::json::value* model = object.if_contains("model");
  if (model == nullptr || model->is_null() || (model->is_string() && model->get_string().empty())) {
    return Invalid("model: Field required", "model");
  }
  if (!model->is_string()) return Invalid("model: Input should be a valid string", "model");
  request.model = std::string(model->get_string());
  const boost::json::value* messages = object.if_contains("messages");
  if (messages == nullptr || !messages->is_array() || messages->get_array().empty()) {
    return Invalid("messages: Field required", "messages");
  }
  const boost::json::value* max_tokens = object.if_contains("max_tokens");
  if (max_tokens == nullptr || max_tokens->is_null()) return Invalid("max_tokens: Field required", "max_tokens");
  if (!(max_tokens->is_uint64() || (max_tokens->is_int64() && max_tokens->get_int64() > 0))) {
    return Invalid("max_tokens: Input should be a positive integer", "max_tokens");
  }
  if (const boost::json::value* stream = object.if_contains("stream"); stream != nullptr && !stream->is_null()) {
    if (!stream->is_bool()) return Invalid("stream: Input should be a valid boolean", "stream");
    request.stream = stream->get_bool();
  }
  // Anthropic streams always carry usage.
  request.include_usage = request.stream;
  return absl::OkStatus();
}

// The OpenAI chat completions and embeddings checks.
absl::Status CheckOpenAiRequest(ClientRequest& request) {
  const boost::json::object& object = request.body;
  const boost::json::value* model = object.if_contains("model");
  if (model == nullptr || model->is_null()) return Invalid("'model' is required", "model");
  if (!model->is_string()) return Invalid("'model' must be a string", "model");
  if (model->get_string().empty()) return Invalid("'model' is required", "model");
  request.model = std::string(model->get_string());

  if (request.operation == Operation::kEmbeddings) {
    const boost::json::value* input = object.if_contains("input");
    if (input == nullptr || input->is_null()) return Invalid("'input' is required", "input");
    return absl::OkStatus();
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
  return absl::OkStatus();
}

// `text` parsed into a tree allocated from one arena, freed at once with the tree. The first
// block is sized from the text (a tree takes about twice its text) so that most bodies need that
// one block only.
boost::json::value ParseIntoArena(std::string_view text, boost::system::error_code& ec) {
  boost::json::value parsed(
      boost::json::make_shared_resource<boost::json::monotonic_resource>(2 * text.size() + 1024));
  ParseJson(text, parsed, ec);
  return parsed;
}

// True when the request came as text and its tree has not been built (a valid request always
// has members, so a built tree is never empty).
bool TreeMissing(const ClientRequest& request) { return request.body.empty() && !request.raw.empty(); }

}  // namespace

absl::StatusOr<ClientRequest> ParseClientRequest(Operation operation, std::string body, ApiFormat format) {
  if (std::optional<ClientRequestOutline> outline = ScanClientRequest(operation, format, body)) {
    return ClientRequest{.operation = operation,
                         .format = format,
                         .body = {},
                         .raw = std::move(body),
                         .raw_model_begin = outline->model_begin,
                         .raw_model_size = outline->model_size,
                         .model = std::move(outline->model),
                         .stream = outline->stream,
                         .include_usage = outline->include_usage,
                         .chat = std::nullopt,
                         .embeddings = std::nullopt,
                         .untranslatable = {}};
  }
  // The outline could not decide: the tree does, and words the error.
  boost::system::error_code ec;
  boost::json::value parsed = ParseIntoArena(body, ec);
  if (ec) return Invalid(absl::StrCat("We could not parse the JSON body of your request: ", ec.message()), "");
  if (!parsed.is_object()) {
    return Invalid("We could not parse the JSON body of your request: expected a JSON object", "");
  }
  // Constructed (not assigned) from the parsed object so that the tree keeps its arena.
  ClientRequest request{.operation = operation,
                        .format = format,
                        .body = std::move(parsed.get_object()),
                        .raw = std::move(body),
                        .model = {},
                        .stream = false,
                        .include_usage = false,
                        .chat = std::nullopt,
                        .embeddings = std::nullopt,
                        .untranslatable = {}};
  absl::Status checked =
      format == ApiFormat::kAnthropic ? CheckAnthropicRequest(request) : CheckOpenAiRequest(request);
  if (!checked.ok()) return checked;
  return request;
}

void LoadJsonTree(ClientRequest& request) {
  if (!TreeMissing(request)) return;
  boost::system::error_code ec;
  boost::json::value parsed = ParseIntoArena(request.raw, ec);
  if (ec || !parsed.is_object()) return;  // cannot happen for a body ParseClientRequest accepted
  // Replaced in place, not assigned: assignment would copy the tree out of its arena.
  std::destroy_at(&request.body);
  std::construct_at(&request.body, std::move(parsed.get_object()));
}

const boost::json::object& JsonTreeOf(const ClientRequest& request, boost::json::value& storage) {
  if (!TreeMissing(request) || !ParseJson(request.raw, storage) || !storage.is_object()) return request.body;
  return storage.get_object();
}

std::optional<std::string> RawWithModel(const ClientRequest& request, std::string_view model) {
  const std::string_view raw = request.raw;
  // The span is checked against the model read there, in case `raw` was changed since.
  const size_t begin = request.raw_model_begin, size = request.raw_model_size;
  if (size != request.model.size() + 2 || begin + size > raw.size() || raw[begin] != '"' ||
      raw.substr(begin + 1, request.model.size()) != request.model || raw[begin + size - 1] != '"') {
    return std::nullopt;
  }
  const std::string quoted = boost::json::serialize(boost::json::string_view(model.data(), model.size()));
  std::string out;
  out.reserve(raw.size() + quoted.size());
  out.append(raw.substr(0, begin)).append(quoted).append(raw.substr(begin + size));
  return out;
}

absl::Status NoCanonicalForm(const ClientRequest& request) {
  if (!request.untranslatable.empty()) return absl::FailedPreconditionError(request.untranslatable);
  return absl::FailedPreconditionError(
      absl::StrCat("the ", AbslView(ApiFormatName(request.format)), " request has no translated form for this provider"));
}

}  // namespace llmesh::provider
