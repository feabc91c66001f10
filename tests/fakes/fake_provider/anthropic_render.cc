#include "tests/fakes/fake_provider/anthropic_render.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"

namespace llmesh::fakes {
namespace {

// Fixed creation date of listed models, like the real API's static model dates.
constexpr std::string_view kModelCreatedAt = "2025-09-29T00:00:00Z";

std::string_view StopReason(const MessageShape& shape) {
  if (shape.blocked) return "refusal";
  return shape.tool != nullptr ? "tool_use" : "end_turn";
}

// input_tokens counts only uncached input; cache reads are reported apart.
void AppendUsage(const TokenCounts& tokens, int64_t output_tokens, std::string& out) {
  absl::StrAppend(&out, "{\"input_tokens\":", tokens.prompt - tokens.cached,
                  ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":", tokens.cached,
                  ",\"output_tokens\":", output_tokens, "}");
}

void AppendMessageHead(const MessageShape& shape, std::string& out) {
  absl::StrAppend(&out, "{\"id\":\"msg_", AbslView(shape.id_hex),
                  "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"");
  AppendJsonEscaped(out, shape.model);
  out.append("\",\"content\":");
}

void AppendToolUseHead(const MessageShape& shape, std::string& out) {
  absl::StrAppend(&out, "{\"type\":\"tool_use\",\"id\":\"toolu_", AbslView(shape.id_hex),
                  "\",\"name\":\"", shape.tool->escaped_name, "\",\"input\":");
}

}  // namespace

void AppendAnthropicErrorBody(std::string_view type, std::string_view message,
                              std::string_view request_id, std::string& out) {
  out.append("{\"type\":\"error\",\"error\":{\"type\":\"");
  AppendJsonEscaped(out, type);
  out.append("\",\"message\":\"");
  AppendJsonEscaped(out, message);
  out.append("\"}");
  if (!request_id.empty()) absl::StrAppend(&out, ",\"request_id\":\"", AbslView(request_id), "\"");
  out.push_back('}');
}

AnthropicRenderer::AnthropicRenderer(const FakeProviderOptions& options) : text_(options.name) {
  std::vector<std::string> models = options.models;
  if (models.empty()) models.push_back("fake-model");
  models_body_ = "{\"data\":[";
  for (size_t i = 0; i < models.size(); ++i) {
    if (i > 0) models_body_.push_back(',');
    models_body_.append("{\"type\":\"model\",\"id\":\"");
    AppendJsonEscaped(models_body_, models[i]);
    models_body_.append("\",\"display_name\":\"");
    AppendJsonEscaped(models_body_, models[i]);
    absl::StrAppend(&models_body_, "\",\"created_at\":\"", AbslView(kModelCreatedAt), "\"}");
  }
  models_body_.append("],\"has_more\":false,\"first_id\":\"");
  AppendJsonEscaped(models_body_, models.front());
  models_body_.append("\",\"last_id\":\"");
  AppendJsonEscaped(models_body_, models.back());
  models_body_.append("\"}");
}

std::string AnthropicRenderer::Message(const MessageShape& shape) const {
  std::string body;
  body.reserve(384 + text_.PiecesSizeBound(shape.pieces));
  AppendMessageHead(shape, body);
  if (shape.tool == nullptr) {
    body.append("[{\"type\":\"text\",\"text\":\"");
    text_.AppendPieces(shape.pieces, body);
    body.append("\"}]");
  } else {
    body.push_back('[');
    AppendToolUseHead(shape, body);
    body.append(shape.tool->arguments);
    body.append("}]");
  }
  absl::StrAppend(&body, ",\"stop_reason\":\"", AbslView(StopReason(shape)),
                  "\",\"stop_sequence\":null,\"usage\":");
  AppendUsage(shape.tokens, shape.tokens.output + shape.tokens.reasoning, body);
  body.push_back('}');
  return body;
}

void AnthropicRenderer::StreamEvent(const MessageShape& shape, size_t index,
                                    std::string& out) const {
  out.clear();
  const size_t content_end = kFirstContentEvent + ContentEventCount(shape);
  if (index == 0) {
    out.append("event: message_start\ndata: {\"type\":\"message_start\",\"message\":");
    AppendMessageHead(shape, out);
    out.append("[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":");
    // output_tokens here is a placeholder; message_delta carries the total.
    AppendUsage(shape.tokens, 1, out);
    out.append("}}\n\n");
  } else if (index == 1) {
    out.append(
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
        "\"content_block\":");
    if (shape.tool == nullptr) {
      out.append("{\"type\":\"text\",\"text\":\"\"}}\n\n");
    } else {
      AppendToolUseHead(shape, out);
      out.append("{}}}\n\n");
    }
  } else if (index == 2) {
    out.append("event: ping\ndata: {\"type\":\"ping\"}\n\n");
  } else if (index < content_end) {
    out.append(
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        "\"delta\":");
    const size_t k = index - kFirstContentEvent;
    if (shape.tool == nullptr) {
      out.append("{\"type\":\"text_delta\",\"text\":\"");
      text_.AppendPiece(static_cast<int64_t>(k), out);
    } else {
      // The first fragment is empty, as the real API sends it.
      out.append("{\"type\":\"input_json_delta\",\"partial_json\":\"");
      if (k > 0) out.append(shape.tool->fragments[k - 1]);
    }
    out.append("\"}}\n\n");
  } else if (index == content_end) {
    out.append(
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
  } else if (index == content_end + 1) {
    absl::StrAppend(&out,
                    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":"
                    "{\"stop_reason\":\"",
                    AbslView(StopReason(shape)),
                    "\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":",
                    shape.tokens.output + shape.tokens.reasoning, "}}\n\n");
  } else {
    out.append("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
  }
}

void AnthropicRenderer::MalformedEvent(const MessageShape& shape, std::string& out) {
  out = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_";
  out.append(shape.id_hex);
  out.append("\"\n\n");
}

void AnthropicRenderer::ErrorEvent(std::string_view type, std::string_view message,
                                   std::string& out) {
  out = "event: error\ndata: ";
  AppendAnthropicErrorBody(type, message, "", out);
  out.append("\n\n");
}

}  // namespace llmesh::fakes
