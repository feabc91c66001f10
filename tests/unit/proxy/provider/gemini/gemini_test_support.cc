#include "tests/unit/proxy/provider/gemini/gemini_test_support.h"

#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proxy/provider/openai/openai_request.h"

namespace llmesh::provider::testing {
namespace {

std::string RenderUsage(const Usage& usage) {
  return absl::StrCat(usage.prompt_tokens, "/", usage.completion_tokens, "/", usage.cached_tokens, "/",
                      usage.reasoning_tokens);
}

}  // namespace

ClientRequest CanonicalRequest(Operation operation, std::string_view openai_body) {
  absl::StatusOr<ClientRequest> request = ParseClientRequest(operation, std::string(openai_body));
  EXPECT_TRUE(request.ok()) << request.status();
  if (!request.ok()) return ClientRequest{};
  LoadJsonTree(*request);
  if (operation == Operation::kChatCompletions) {
    absl::StatusOr<ChatRequest> chat = ParseOpenAiChatRequest(request->body);
    EXPECT_TRUE(chat.ok()) << chat.status();
    if (chat.ok()) request->chat = *std::move(chat);
  } else {
    absl::StatusOr<EmbeddingsRequest> embeddings = ParseOpenAiEmbeddingsRequest(request->body);
    EXPECT_TRUE(embeddings.ok()) << embeddings.status();
    if (embeddings.ok()) request->embeddings = *std::move(embeddings);
  }
  return *std::move(request);
}

std::string Compact(std::string_view json) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(json, ec);
  EXPECT_FALSE(ec) << "golden is not JSON: " << ec.message();
  return ec ? std::string() : boost::json::serialize(value);
}

std::string RenderEvents(const std::vector<StreamEvent>& events) {
  std::string out;
  for (const StreamEvent& event : events) {
    switch (event.kind) {
      case StreamEvent::Kind::kStart:
        absl::StrAppend(&out, "start id=", event.id, " model=", event.name, "\n");
        break;
      case StreamEvent::Kind::kText:
        absl::StrAppend(&out, "text ", boost::json::serialize(boost::json::string(event.text)), "\n");
        break;
      case StreamEvent::Kind::kReasoning:
        absl::StrAppend(&out, "reasoning ", boost::json::serialize(boost::json::string(event.text)), "\n");
        break;
      case StreamEvent::Kind::kToolCallStart:
        absl::StrAppend(&out, "tool_call_start ", event.tool_index, " id=", event.id, " name=", event.name, "\n");
        break;
      case StreamEvent::Kind::kToolCallArguments:
        absl::StrAppend(&out, "tool_call_arguments ", event.tool_index, " ", event.text, "\n");
        break;
      case StreamEvent::Kind::kFinish: {
        const std::string_view reason = FinishReasonName(event.finish_reason);
        absl::StrAppend(&out, "finish ", absl::string_view(reason.data(), reason.size()),
                        " usage=", RenderUsage(event.usage), "\n");
        break;
      }
      case StreamEvent::Kind::kUsage:
        absl::StrAppend(&out, "usage ", RenderUsage(event.usage), "\n");
        break;
    }
  }
  return out;
}

}  // namespace llmesh::provider::testing
