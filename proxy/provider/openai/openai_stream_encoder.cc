#include "proxy/provider/openai/openai_stream_encoder.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "proxy/provider/openai/openai_response.h"

namespace llmesh::provider {
namespace {

namespace json = boost::json;

std::string Quoted(std::string_view text) { return json::serialize(json::string_view(text.data(), text.size())); }

}  // namespace

void OpenAiStreamEncoder::AppendChunk(std::string_view choice_body, std::string& out) {
  absl::StrAppend(&out, "data: {\"id\":", Quoted(id_), ",\"object\":\"chat.completion.chunk\",\"created\":", created_,
                  ",\"model\":", Quoted(model_), ",\"choices\":[{\"index\":0,", AbslView(choice_body), "}]}\n\n");
}

void OpenAiStreamEncoder::Encode(const StreamEvent& event, std::string& out) {
  switch (event.kind) {
    case StreamEvent::Kind::kStart:
      if (!event.id.empty()) id_ = event.id;
      model_ = event.name;
      AppendChunk(R"("delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null)", out);
      return;
    case StreamEvent::Kind::kText:
      if (event.text.empty()) return;
      AppendChunk(absl::StrCat("\"delta\":{\"content\":", Quoted(event.text), "},\"logprobs\":null,\"finish_reason\":null"),
                  out);
      return;
    case StreamEvent::Kind::kReasoning:
      if (event.text.empty()) return;
      AppendChunk(absl::StrCat("\"delta\":{\"reasoning_content\":", Quoted(event.text),
                               "},\"logprobs\":null,\"finish_reason\":null"),
                  out);
      return;
    case StreamEvent::Kind::kToolCallStart:
      AppendChunk(absl::StrCat("\"delta\":{\"tool_calls\":[{\"index\":", event.tool_index, ",\"id\":", Quoted(event.id),
                               ",\"type\":\"function\",\"function\":{\"name\":", Quoted(event.name),
                               ",\"arguments\":\"\"}}]},\"logprobs\":null,\"finish_reason\":null"),
                  out);
      return;
    case StreamEvent::Kind::kToolCallArguments:
      if (event.text.empty()) return;
      AppendChunk(absl::StrCat("\"delta\":{\"tool_calls\":[{\"index\":", event.tool_index,
                               ",\"function\":{\"arguments\":", Quoted(event.text),
                               "}}]},\"logprobs\":null,\"finish_reason\":null"),
                  out);
      return;
    case StreamEvent::Kind::kFinish:
      AppendChunk(absl::StrCat("\"delta\":{},\"logprobs\":null,\"finish_reason\":\"",
                               AbslView(FinishReasonName(event.finish_reason)), "\""),
                  out);
      return;
    case StreamEvent::Kind::kUsage:
      if (!include_usage_) return;
      absl::StrAppend(&out, "data: {\"id\":", Quoted(id_), ",\"object\":\"chat.completion.chunk\",\"created\":",
                      created_, ",\"model\":", Quoted(model_), ",\"choices\":[],\"usage\":",
                      json::serialize(RenderOpenAiUsage(event.usage)), "}\n\n");
      return;
  }
}

void OpenAiStreamEncoder::End(std::string& out) { out.append("data: [DONE]\n\n"); }

}  // namespace llmesh::provider
