#include "tests/fakes/fake_provider/openai_render.h"

#include <bit>
#include <charconv>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace llmesh::fakes {
namespace {

constexpr std::string_view kHex = "0123456789abcdef";
// Fixed "created" of listed models, like the real API's static model timestamps.
constexpr int64_t kModelCreated = 1715367049;

void AppendUsage(std::string& out, int64_t prompt_tokens, int64_t completion_tokens, bool details) {
  absl::StrAppend(&out, "{\"prompt_tokens\":", prompt_tokens,
                  ",\"completion_tokens\":", completion_tokens,
                  ",\"total_tokens\":", prompt_tokens + completion_tokens);
  if (details) {
    out.append(
        ",\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
        "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
        "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}");
  }
  out.push_back('}');
}

// This Abseil's string_view is its own type; std::string_view needs an explicit bridge.
absl::string_view AsAbsl(std::string_view text) { return {text.data(), text.size()}; }

uint64_t Fnv1a(std::string_view text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

}  // namespace

std::array<float, kEmbeddingDimensions> EmbeddingVector(std::string_view item) {
  static_assert(kEmbeddingDimensions <= sizeof(uint64_t));
  const uint64_t hash = Fnv1a(item);
  std::array<float, kEmbeddingDimensions> vector;
  for (size_t j = 0; j < kEmbeddingDimensions; ++j) {
    vector[j] = static_cast<float>(static_cast<double>((hash >> (8 * j)) & 0xff) / 127.5 - 1.0);
  }
  return vector;
}

void AppendJsonEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20) {
      out.append("\\u00");
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    } else {
      out.push_back(c);
    }
  }
}

std::string OpenAiErrorBody(std::string_view message, std::string_view type,
                            std::string_view code) {
  std::string body = "{\"error\":{\"message\":\"";
  AppendJsonEscaped(body, message);
  body.append("\",\"type\":\"");
  AppendJsonEscaped(body, type);
  body.append("\",\"param\":null,\"code\":");
  if (code.empty()) {
    body.append("null");
  } else {
    body.push_back('"');
    AppendJsonEscaped(body, code);
    body.push_back('"');
  }
  body.append("}}");
  return body;
}

OpenAiRenderer::OpenAiRenderer(const FakeProviderOptions& options) {
  AppendJsonEscaped(escaped_name_, options.name);
  std::vector<std::string> models = options.models;
  if (models.empty()) models.push_back("fake-model");
  models_body_ = "{\"object\":\"list\",\"data\":[";
  for (size_t i = 0; i < models.size(); ++i) {
    if (i > 0) models_body_.push_back(',');
    models_body_.append("{\"id\":\"");
    AppendJsonEscaped(models_body_, models[i]);
    absl::StrAppend(&models_body_, "\",\"object\":\"model\",\"created\":", kModelCreated,
                    ",\"owned_by\":\"", escaped_name_, "\"}");
  }
  models_body_.append("]}");
}

void OpenAiRenderer::AppendPiece(int64_t index, std::string& out) const {
  absl::StrAppend(&out, escaped_name_, "-", index, " ");
}

std::string OpenAiRenderer::ChatCompletion(const ChatCompletionShape& shape) const {
  std::string body;
  body.reserve(512 + static_cast<size_t>(shape.chunks) * (escaped_name_.size() + 8));
  absl::StrAppend(&body, "{\"id\":\"", AsAbsl(shape.id),
                  "\",\"object\":\"chat.completion\",\"created\":", shape.created, ",\"model\":\"");
  AppendJsonEscaped(body, shape.model);
  body.append(
      "\",\"system_fingerprint\":\"fp_fake\",\"choices\":[{\"index\":0,\"message\":"
      "{\"role\":\"assistant\",\"content\":\"");
  for (int64_t i = 0; i < shape.chunks; ++i) AppendPiece(i, body);
  body.append(
      "\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
      "\"usage\":");
  AppendUsage(body, shape.prompt_tokens, shape.chunks, /*details=*/true);
  body.push_back('}');
  return body;
}

std::string OpenAiRenderer::StreamPrefix(const ChatCompletionShape& shape) const {
  std::string prefix;
  absl::StrAppend(&prefix, "data: {\"id\":\"", AsAbsl(shape.id),
                  "\",\"object\":\"chat.completion.chunk\",\"created\":", shape.created,
                  ",\"model\":\"");
  AppendJsonEscaped(prefix, shape.model);
  prefix.append("\",\"system_fingerprint\":\"fp_fake\",\"choices\":");
  return prefix;
}

void OpenAiRenderer::StreamEvent(const ChatCompletionShape& shape, std::string_view prefix,
                                 size_t index, std::string& out) const {
  out.clear();
  const size_t chunks = static_cast<size_t>(shape.chunks);
  const std::string_view suffix = shape.include_usage ? ",\"usage\":null}\n\n" : "}\n\n";
  if (index == StreamEventCount(shape) - 1) {
    out.append("data: [DONE]\n\n");
    return;
  }
  out.append(prefix);
  if (index == 0) {
    out.append(
        "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
        "\"finish_reason\":null}]");
  } else if (index <= chunks) {
    out.append("[{\"index\":0,\"delta\":{\"content\":\"");
    AppendPiece(static_cast<int64_t>(index - 1), out);
    out.append("\"},\"finish_reason\":null}]");
  } else if (index == chunks + 1) {
    out.append("[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]");
  } else {
    out.append("[],\"usage\":");
    AppendUsage(out, shape.prompt_tokens, shape.chunks, /*details=*/false);
    out.append("}\n\n");
    return;
  }
  out.append(suffix);
}

std::string OpenAiRenderer::Embeddings(std::string_view model,
                                       const std::vector<std::string_view>& items,
                                       EmbeddingEncoding encoding, int64_t prompt_tokens) const {
  std::string body = "{\"object\":\"list\",\"data\":[";
  char number[32];
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
    body.push_back('[');
    for (size_t j = 0; j < vector.size(); ++j) {
      // Shortest round-trip text: a client reading it back as float32 gets the exact value
      // the base64 form carries.
      const std::to_chars_result result = std::to_chars(number, number + sizeof(number), vector[j]);
      if (j > 0) body.push_back(',');
      body.append(number, result.ptr);
    }
    body.append("]}");
  }
  body.append("],\"model\":\"");
  AppendJsonEscaped(body, model);
  body.append("\",\"usage\":{\"prompt_tokens\":");
  absl::StrAppend(&body, prompt_tokens, ",\"total_tokens\":", prompt_tokens, "}}");
  return body;
}

}  // namespace llmesh::fakes
