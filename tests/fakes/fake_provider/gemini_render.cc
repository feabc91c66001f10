#include "tests/fakes/fake_provider/gemini_render.h"

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"

namespace llmesh::fakes {
namespace {

// Zero counts are left out, as the API's proto3 JSON does.
void AppendUsage(const TokenCounts& tokens, int64_t output, int64_t reasoning, std::string& out) {
  absl::StrAppend(&out, "\"usageMetadata\":{\"promptTokenCount\":", tokens.prompt);
  if (output > 0) absl::StrAppend(&out, ",\"candidatesTokenCount\":", output);
  absl::StrAppend(&out, ",\"totalTokenCount\":", tokens.prompt + output + reasoning);
  if (tokens.cached > 0) absl::StrAppend(&out, ",\"cachedContentTokenCount\":", tokens.cached);
  if (reasoning > 0) absl::StrAppend(&out, ",\"thoughtsTokenCount\":", reasoning);
  out.push_back('}');
}

}  // namespace

void AppendGeminiErrorBody(int code, std::string_view message, std::string_view status,
                           std::string_view reason, std::string_view retry_after,
                           std::string& out) {
  absl::StrAppend(&out, "{\"error\":{\"code\":", code, ",\"message\":\"");
  AppendJsonEscaped(out, message);
  out.append("\",\"status\":\"");
  AppendJsonEscaped(out, status);
  out.push_back('"');
  if (code == 429) {
    out.append(
        ",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.QuotaFailure\","
        "\"violations\":[{\"quotaId\":\"");
    AppendJsonEscaped(out, reason);
    out.append(
        "\"}]},{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"");
    AppendJsonEscaped(out, retry_after.empty() ? std::string_view("1") : retry_after);
    out.append("s\"}]");
  } else if (!reason.empty()) {
    out.append(",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\",\"reason\":\"");
    AppendJsonEscaped(out, reason);
    out.append(
        "\",\"domain\":\"googleapis.com\",\"metadata\":{\"service\":"
        "\"generativelanguage.googleapis.com\"}}]");
  }
  out.append("}}");
}

GeminiRenderer::GeminiRenderer(const FakeProviderOptions& options) : text_(options.name) {
  std::vector<std::string> models = options.models;
  if (models.empty()) models.push_back("fake-model");
  models_body_ = "{\"models\":[";
  for (size_t i = 0; i < models.size(); ++i) {
    if (i > 0) models_body_.push_back(',');
    models_body_.append("{\"name\":\"models/");
    AppendJsonEscaped(models_body_, models[i]);
    models_body_.append("\",\"version\":\"001\",\"displayName\":\"");
    AppendJsonEscaped(models_body_, models[i]);
    models_body_.append(
        "\",\"inputTokenLimit\":1048576,\"outputTokenLimit\":65536,"
        "\"supportedGenerationMethods\":[\"generateContent\",\"countTokens\","
        "\"embedContent\",\"batchEmbedContents\"]}");
  }
  models_body_.append("]}");
}

void GeminiRenderer::AppendResponse(const GenerateShape& shape, int64_t index,
                                    std::string& out) const {
  if (shape.blocked) {
    out.append(
        "{\"promptFeedback\":{\"blockReason\":\"SAFETY\",\"safetyRatings\":[{\"category\":"
        "\"HARM_CATEGORY_DANGEROUS_CONTENT\",\"probability\":\"HIGH\"}]},");
    AppendUsage(shape.tokens, 0, 0, out);
  } else {
    const bool whole = index < 0;
    const bool last = whole || shape.tool != nullptr || index + 1 >= shape.pieces;
    out.append("{\"candidates\":[{\"content\":{\"parts\":[");
    if (shape.tool != nullptr) {
      absl::StrAppend(&out, "{\"functionCall\":{\"name\":\"", shape.tool->escaped_name,
                      "\",\"args\":", shape.tool->arguments, "}}");
    } else {
      out.append("{\"text\":\"");
      if (whole) {
        text_.AppendPieces(shape.pieces, out);
      } else if (index < shape.pieces) {
        text_.AppendPiece(index, out);
      }
      out.append("\"}");
    }
    out.append("],\"role\":\"model\"}");
    if (last) out.append(",\"finishReason\":\"STOP\"");
    out.append(",\"index\":0}],");
    if (last) {
      AppendUsage(shape.tokens, shape.tokens.output, shape.tokens.reasoning, out);
    } else {
      AppendUsage(shape.tokens, index + 1, 0, out);
    }
  }
  out.append(",\"modelVersion\":\"");
  AppendJsonEscaped(out, shape.model);
  absl::StrAppend(&out, "\",\"responseId\":\"", AbslView(shape.response_id), "\"}");
}

std::string GeminiRenderer::Response(const GenerateShape& shape) const {
  std::string body;
  body.reserve(384 + text_.PiecesSizeBound(shape.pieces));
  AppendResponse(shape, -1, body);
  return body;
}

void GeminiRenderer::StreamEvent(const GenerateShape& shape, size_t index,
                                 std::string& out) const {
  out.clear();
  const bool last = index + 1 == StreamEventCount(shape);
  if (shape.sse) {
    out.append("data: ");
  } else {
    out.append(index == 0 ? "[" : ",\r\n");
  }
  AppendResponse(shape, static_cast<int64_t>(index), out);
  if (shape.sse) {
    out.append("\r\n\r\n");
  } else if (last) {
    out.push_back(']');
  }
}

void GeminiRenderer::ErrorEvent(const GenerateShape& shape, size_t sent,
                                std::string_view error_body, std::string& out) {
  if (shape.sse) {
    out = "data: ";
    out.append(error_body);
    out.append("\r\n\r\n");
    return;
  }
  out = sent == 0 ? "[" : ",\r\n";
  out.append(error_body);
  out.push_back(']');
}

void GeminiRenderer::MalformedEvent(const GenerateShape& shape, std::string& out) {
  out = shape.sse ? "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\r\n\r\n"
                  : "[{\"candidates\":[{\"content\":";
}

std::string GeminiRenderer::Embeddings(const std::vector<std::string>& texts, bool single) {
  std::string body = single ? "{\"embedding\":" : "{\"embeddings\":[";
  for (size_t i = 0; i < texts.size(); ++i) {
    if (i > 0) body.push_back(',');
    body.append("{\"values\":");
    AppendFloatArray(EmbeddingVector(texts[i]), body);
    body.push_back('}');
  }
  body.append(single ? "}" : "]}");
  return body;
}

}  // namespace llmesh::fakes
