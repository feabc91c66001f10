#include "tests/fakes/fake_provider/openai_render.h"

#include <bit>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"

namespace llmesh::fakes {
namespace {

// Fixed "created" of listed models, like the real API's static model timestamps.
constexpr int64_t kModelCreated = 1715367049;

// completion_tokens includes reasoning tokens, as the real API counts them.
void AppendUsage(std::string& out, const TokenCounts& tokens, bool details) {
  const int64_t completion = tokens.output + tokens.reasoning;
  absl::StrAppend(&out, "{\"prompt_tokens\":", tokens.prompt,
                  ",\"completion_tokens\":", completion,
                  ",\"total_tokens\":", tokens.prompt + completion);
  if (details) {
    absl::StrAppend(&out, ",\"prompt_tokens_details\":{\"cached_tokens\":", tokens.cached,
                    ",\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":",
                    tokens.reasoning,
                    ",\"audio_tokens\":0,\"accepted_prediction_tokens\":0,"
                    "\"rejected_prediction_tokens\":0}");
  }
  out.push_back('}');
}

std::string_view FinishReason(const ChatCompletionShape& shape) {
  if (shape.blocked) return "content_filter";
  return shape.tool != nullptr ? "tool_calls" : "stop";
}

}  // namespace

void AppendOpenAiErrorBody(std::string_view message, std::string_view type, std::string_view code,
                           std::string& out) {
  out.append("{\"error\":{\"message\":\"");
  AppendJsonEscaped(out, message);
  out.append("\",\"type\":\"");
  AppendJsonEscaped(out, type);
  out.append("\",\"param\":null,\"code\":");
  if (code.empty()) {
    out.append("null");
  } else {
    out.push_back('"');
    AppendJsonEscaped(out, code);
    out.push_back('"');
  }
  out.append("}}");
}

std::string OpenAiErrorBody(std::string_view message, std::string_view type,
                            std::string_view code) {
  std::string body;
  AppendOpenAiErrorBody(message, type, code, body);
  return body;
}

OpenAiRenderer::OpenAiRenderer(const FakeProviderOptions& options) : text_(options.name) {
  std::vector<std::string> models = options.models;
  if (models.empty()) models.push_back("fake-model");
  models_body_ = "{\"object\":\"list\",\"data\":[";
  for (size_t i = 0; i < models.size(); ++i) {
    if (i > 0) models_body_.push_back(',');
    models_body_.append("{\"id\":\"");
    AppendJsonEscaped(models_body_, models[i]);
    absl::StrAppend(&models_body_, "\",\"object\":\"model\",\"created\":", kModelCreated,
                    ",\"owned_by\":\"", AbslView(text_.escaped_name()), "\"}");
  }
  models_body_.append("]}");
}

void OpenAiRenderer::AppendToolCallHead(const ChatCompletionShape& shape, bool streamed,
                                        std::string& out) const {
  // Only stream deltas carry the call's position.
  out.append(streamed ? "{\"index\":0,\"id\":\"" : "{\"id\":\"");
  out.append(shape.call_id);
  out.append("\",\"type\":\"function\",\"function\":{\"name\":\"");
  out.append(shape.tool->escaped_name);
  out.append("\",\"arguments\":\"");
}

std::string OpenAiRenderer::ChatCompletion(const ChatCompletionShape& shape) const {
  std::string body;
  body.reserve(512 + text_.PiecesSizeBound(shape.chunks));
  absl::StrAppend(&body, "{\"id\":\"", AbslView(shape.id),
                  "\",\"object\":\"chat.completion\",\"created\":", shape.created, ",\"model\":\"");
  AppendJsonEscaped(body, shape.model);
  body.append(
      "\",\"system_fingerprint\":\"fp_fake\",\"choices\":[{\"index\":0,\"message\":"
      "{\"role\":\"assistant\",\"content\":");
  if (shape.tool == nullptr) {
    body.push_back('"');
    text_.AppendPieces(shape.chunks, body);
    body.push_back('"');
  } else {
    body.append("null,\"tool_calls\":[");
    AppendToolCallHead(shape, /*streamed=*/false, body);
    body.append(shape.tool->arguments_literal);
    body.append("\"}}]");
  }
  body.append(",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"");
  body.append(FinishReason(shape));
  body.append("\"}],\"usage\":");
  AppendUsage(body, shape.tokens, /*details=*/true);
  body.push_back('}');
  return body;
}

std::string OpenAiRenderer::StreamPrefix(const ChatCompletionShape& shape) const {
  std::string prefix;
  absl::StrAppend(&prefix, "data: {\"id\":\"", AbslView(shape.id),
                  "\",\"object\":\"chat.completion.chunk\",\"created\":", shape.created,
                  ",\"model\":\"");
  AppendJsonEscaped(prefix, shape.model);
  prefix.append("\",\"system_fingerprint\":\"fp_fake\",\"choices\":");
  return prefix;
}

void OpenAiRenderer::StreamEvent(const ChatCompletionShape& shape, std::string_view prefix,
                                 size_t index, std::string& out) const {
  out.clear();
  const size_t first = FirstContentEvent(shape);
  const size_t content_end = first + ContentEventCount(shape);
  const std::string_view suffix = shape.include_usage ? ",\"usage\":null}\n\n" : "}\n\n";
  if (index == StreamEventCount(shape) - 1) {
    out.append("data: [DONE]\n\n");
    return;
  }
  if (shape.empty_choices_chunk && index == 0) {
    // Azure's content-filter verdict on the prompt, before any choice.
    absl::StrAppend(&out, "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\","
                    "\"object\":\"\",\"prompt_filter_results\":[{\"prompt_index\":0,"
                    "\"content_filter_results\":{\"hate\":{\"filtered\":false,\"severity\":\"safe\"},"
                    "\"self_harm\":{\"filtered\":false,\"severity\":\"safe\"},"
                    "\"sexual\":{\"filtered\":false,\"severity\":\"safe\"},"
                    "\"violence\":{\"filtered\":false,\"severity\":\"safe\"}}}]}\n\n");
    return;
  }
  out.append(prefix);
  if (index == first - 1 && shape.tool == nullptr) {
    out.append(
        "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
        "\"finish_reason\":null}]");
  } else if (index == first - 1) {
    out.append("[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[");
    AppendToolCallHead(shape, /*streamed=*/true, out);
    out.append("\"}}],\"refusal\":null},\"finish_reason\":null}]");
  } else if (index < content_end && shape.tool == nullptr) {
    out.append("[{\"index\":0,\"delta\":{\"content\":\"");
    text_.AppendPiece(static_cast<int64_t>(index - first), out);
    out.append("\"},\"finish_reason\":null}]");
  } else if (index < content_end) {
    out.append(
        "[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"");
    out.append(shape.tool->fragments[index - first]);
    out.append("\"}}]},\"finish_reason\":null}]");
  } else if (index == content_end) {
    out.append("[{\"index\":0,\"delta\":{},\"finish_reason\":\"");
    out.append(FinishReason(shape));
    out.append("\"}]");
  } else {
    out.append("[],\"usage\":");
    // Details only when there is something to detail, like the real usage chunk of old.
    AppendUsage(out, shape.tokens, /*details=*/shape.tokens.cached > 0 || shape.tokens.reasoning > 0);
    out.append("}\n\n");
    return;
  }
  out.append(suffix);
}

std::string OpenAiRenderer::Embeddings(std::string_view model,
                                       const std::vector<std::string_view>& items,
                                       EmbeddingEncoding encoding, int64_t prompt_tokens) const {
  std::string body = "{\"object\":\"list\",\"data\":[";
  char bytes[kEmbeddingDimensions * sizeof(float)];
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) body.push_back(',');
    absl::StrAppend(&body, "{\"object\":\"embedding\",\"index\":", i, ",\"embedding\":");
    const std::array<float, kEmbeddingDimensions> vector = EmbeddingVector(items[i]);
    if (encoding == EmbeddingEncoding::kBase64) {
      // Byte order is fixed (little-endian, what clients decode), whatever the host's.
      for (size_t j = 0; j < vector.size(); ++j) {
        const auto bits = std::bit_cast<uint32_t>(vector[j]);
        for (size_t b = 0; b < sizeof(float); ++b) {
          bytes[j * sizeof(float) + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
        }
      }
      body.push_back('"');
      body.append(absl::Base64Escape(absl::string_view(bytes, sizeof(bytes))));
      body.append("\"}");
      continue;
    }
    AppendFloatArray(vector, body);
    body.push_back('}');
  }
  body.append("],\"model\":\"");
  AppendJsonEscaped(body, model);
  body.append("\",\"usage\":{\"prompt_tokens\":");
  absl::StrAppend(&body, prompt_tokens, ",\"total_tokens\":", prompt_tokens, "}}");
  return body;
}

}  // namespace llmesh::fakes
