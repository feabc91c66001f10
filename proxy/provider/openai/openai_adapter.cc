#include "proxy/provider/openai/openai_adapter.h"

#include <utility>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/serializer.hpp>
#include <boost/json/value.hpp>

#include "absl/strings/str_cat.h"
#include "proxy/provider/common/error_mapping.h"
#include "proxy/provider/common/json_fields.h"
#include "proxy/provider/common/json_members.h"
#include "proxy/provider/common/target_path.h"
#include "proxy/provider/common/text.h"
#include "proxy/provider/openai/openai_answer_scan.h"
#include "proxy/provider/openai/openai_request.h"
#include "proxy/provider/openai/openai_stream_decoder.h"
#include "proxy/provider/openai/openai_response.h"

namespace llmesh::provider {
namespace {

// Writes JSON into a string member by member, so the client's body is never copied as a tree.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void Key(std::string_view key) {
    if (!first_) out_.push_back(',');
    first_ = false;
    String(key);
    out_.push_back(':');
  }
  void String(std::string_view value) {
    serializer_.reset(boost::json::string_view(value.data(), value.size()));
    Drain();
  }
  void Value(const boost::json::value& value) {
    serializer_.reset(&value);
    Drain();
  }
  void Raw(std::string_view text) { out_.append(text); }
  // A member copied as written: `key_token` with its quotes, `value` as JSON text.
  void RawMember(std::string_view key_token, std::string_view value) {
    if (!first_) out_.push_back(',');
    first_ = false;
    out_.append(key_token);
    out_.push_back(':');
    out_.append(value);
  }
  void Open() {
    out_.push_back('{');
    first_ = true;
  }
  void Close() {
    out_.push_back('}');
    first_ = false;
  }

 private:
  void Drain() {
    char buffer[4096];
    while (!serializer_.done()) {
      const boost::json::string_view piece = serializer_.read(buffer, sizeof buffer);
      out_.append(piece.data(), piece.size());
    }
  }

  std::string& out_;
  boost::json::serializer serializer_;
  bool first_ = true;
};

// The client's stream_options with include_usage forced on; other options kept.
void WriteStreamOptions(JsonWriter& writer, const boost::json::value* options) {
  writer.Open();
  if (options != nullptr && options->is_object()) {
    for (const auto& member : options->get_object()) {
      if (member.key() == "include_usage") continue;
      writer.Key(std::string_view(member.key().data(), member.key().size()));
      writer.Value(member.value());
    }
  }
  writer.Key("include_usage");
  writer.Raw("true");
  writer.Close();
}

}  // namespace

absl::StatusOr<EncodedRequest> OpenAiAdapter::Encode(const ClientRequest& request,
                                                     const TargetCall& call) const {
  const bool chat = request.operation == Operation::kChatCompletions;
  const bool stream = chat && request.stream;
  EncodedRequest encoded;
  encoded.method = boost::beast::http::verb::post;
  const std::string_view endpoint = chat ? "/chat/completions" : "/embeddings";
  const bool azure = dialect_ == OpenAiDialect::kAzure;
  if (azure) {
    // Classic Azure OpenAI: the deployment (the target's model name) is in the path.
    encoded.target = absl::StrCat(JoinTargetPath(call.base_path, "/deployments/"), AbslView(call.model), AbslView(endpoint),
                                  "?api-version=", AbslView(call.api_version));
  } else {
    encoded.target = JoinTargetPath(call.base_path, endpoint);
  }
  if (!call.api_key.empty()) {
    if (azure) {
      encoded.headers.emplace_back("api-key", std::string(call.api_key));
    } else {
      encoded.headers.emplace_back("authorization", absl::StrCat("Bearer ", AbslView(call.api_key)));
    }
  }
  encoded.headers.emplace_back("content-type", "application/json");
  encoded.headers.emplace_back("accept", stream ? "text/event-stream" : "application/json");

  if (request.format != ApiFormat::kOpenAi) {
    if (chat && request.chat) {
      encoded.body = EncodeOpenAiChatRequest(*request.chat, call.model,
                                             dialect_ == OpenAiDialect::kCompatible ? OutputCapField::kMaxTokens
                                                                                    : OutputCapField::kMaxCompletionTokens);
    } else if (!chat && request.embeddings) {
      encoded.body = EncodeOpenAiEmbeddingsRequest(*request.embeddings, call.model);
    } else {
      return NoCanonicalForm(request);
    }
    return encoded;
  }

  // Only `model` changes unless stream_options must: then the client's bytes go as they are.
  if (std::optional<std::string> body = stream ? std::nullopt : RawWithModel(request, call.model)) {
    encoded.body = *std::move(body);
    return encoded;
  }
  JsonWriter writer(encoded.body);
  writer.Open();
  bool wrote_model = false;
  bool wrote_options = false;
  JsonMembers members;
  if (!request.raw.empty() && SplitTopLevelMembers(request.raw, members)) {
    encoded.body.reserve(request.raw.size() + call.model.size() + 32);
    for (const JsonMember& member : members) {
      if (KeyIs(member.key, "model")) {
        writer.Key("model");
        writer.String(call.model);
        wrote_model = true;
      } else if (stream && KeyIs(member.key, "stream_options")) {
        boost::json::value options;  // the member's own text, read only to add include_usage
        ParseJson(member.value, options);
        writer.Key("stream_options");
        WriteStreamOptions(writer, &options);
        wrote_options = true;
      } else {
        writer.RawMember(member.key, member.value);
      }
    }
  } else {
    boost::json::value storage;
    for (const auto& member : JsonTreeOf(request, storage)) {
      const std::string_view key(member.key().data(), member.key().size());
      writer.Key(key);
      if (key == "model") {
        writer.String(call.model);
        wrote_model = true;
      } else if (stream && key == "stream_options") {
        WriteStreamOptions(writer, &member.value());
        wrote_options = true;
      } else {
        writer.Value(member.value());
      }
    }
  }
  if (!wrote_model) {
    writer.Key("model");
    writer.String(call.model);
  }
  if (stream && !wrote_options) {
    writer.Key("stream_options");
    WriteStreamOptions(writer, nullptr);
  }
  writer.Close();

  return encoded;
}

DecodedResponse OpenAiAdapter::Decode(const ClientRequest& request, int status,
                                      std::string_view body) const {
  DecodedResponse decoded;
  const std::string_view text = StripLeadingWhitespace(body);
  const bool chat = request.operation == Operation::kChatCompletions;
  // The common passthrough answer is read without a tree; any other goes the tree's way.
  if (request.format == ApiFormat::kOpenAi) {
    if (std::optional<Usage> usage = ScanOpenAiAnswer(text, chat)) {
      decoded.usage = *usage;
      decoded.body = std::string(text);
      return decoded;
    }
  }
  // One arena for the whole parse, freed at once: a typical chat answer fits the buffer and
  // costs no heap allocation; large ones (embeddings) continue on the heap.
  unsigned char scratch[4096];
  boost::json::monotonic_resource resource(scratch, sizeof scratch);
  boost::json::value value(&resource);
  decoded.failure = ParseAnswerJson(status, text, value);
  if (decoded.failure) return decoded;
  const boost::json::object* object = value.if_object();
  const std::string_view list = chat ? "choices" : "data";
  const boost::json::array* items = object == nullptr ? nullptr : ArrayField(*object, list);
  if (items == nullptr) {
    decoded.failure = MalformedAnswer(status, absl::StrCat("upstream answer has no '", AbslView(list), "' array"));
    return decoded;
  }
  if (chat) {
    for (const boost::json::value& item : *items) {
      const boost::json::object* choice = item.if_object();
      if (choice != nullptr &&
          StringField(*choice, "finish_reason") == "insufficient_system_resource") {
        UpstreamFailure failure;
        failure.kind = FailureKind::kOverloaded;
        failure.http_status = status;
        failure.code = "insufficient_system_resource";
        failure.message = "the provider ran out of inference capacity mid-generation";
        decoded.failure = std::move(failure);
        return decoded;
      }
    }
  }
  if (std::optional<Usage> usage = ReadOpenAiUsage(*object)) decoded.usage = *usage;
  if (request.format != ApiFormat::kOpenAi) {
    if (!chat) {
      absl::StatusOr<EmbeddingsResponse> answer = ParseOpenAiEmbeddingsResponse(*object);
      if (!answer.ok()) {
        decoded.failure = MalformedAnswer(status, std::string(answer.status().message()));
        return decoded;
      }
      decoded.embeddings = *std::move(answer);
      return decoded;
    }
    absl::StatusOr<ChatResponse> answer = ParseOpenAiChatResponse(*object);
    if (!answer.ok()) {
      decoded.failure = MalformedAnswer(status, std::string(answer.status().message()));
      return decoded;
    }
    decoded.chat = *std::move(answer);
    return decoded;
  }
  // Only a body that needs repair is re-serialised; all others go out as received.
  if (chat && NormalizeFinishReasons(value)) {
    decoded.body = boost::json::serialize(value);
  } else {
    decoded.body = std::string(text);
  }
  return decoded;
}

UpstreamFailure OpenAiAdapter::DecodeError(int status, const boost::beast::http::fields& headers,
                                           std::string_view body, absl::Time now) const {
  return MapHttpError(status, headers, body, now);
}

std::unique_ptr<StreamDecoder> OpenAiAdapter::NewStreamDecoder(const ClientRequest& request) const {
  return std::make_unique<OpenAiStreamDecoder>(request.include_usage, request.format != ApiFormat::kOpenAi);
}

}  // namespace llmesh::provider
