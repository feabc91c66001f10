#include "proxy/codec/canonical_form.h"

#include <utility>

#include "proxy/provider/anthropic/anthropic_request.h"
#include "proxy/provider/openai/openai_request.h"

namespace llmesh::codec {
namespace {

template <typename T>
void Keep(absl::StatusOr<T> parsed, std::optional<T>& into, provider::ClientRequest& request) {
  if (parsed.ok()) {
    into = *std::move(parsed);
  } else {
    request.untranslatable = std::string(parsed.status().message());
  }
}

}  // namespace

void AddCanonicalForm(provider::ClientRequest& request) {
  provider::LoadJsonTree(request);
  switch (request.format) {
    case provider::ApiFormat::kAnthropic:
      Keep(provider::ParseAnthropicRequest(request.body), request.chat, request);
      return;
    case provider::ApiFormat::kOpenAi:
      if (request.operation == provider::Operation::kEmbeddings) {
        Keep(provider::ParseOpenAiEmbeddingsRequest(request.body), request.embeddings, request);
      } else {
        Keep(provider::ParseOpenAiChatRequest(request.body), request.chat, request);
      }
      return;
    case provider::ApiFormat::kGemini:
      request.untranslatable = "Gemini-format clients are not served";
      return;
  }
}

}  // namespace llmesh::codec
