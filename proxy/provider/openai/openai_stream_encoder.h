// Renders canonical stream events as OpenAI `chat.completion.chunk` SSE for an OpenAI client
// whose answer comes from a provider of another format (Anthropic, Gemini).
//
// Sits in the OpenAI codec's response sink: every event the attempt's StreamDecoder produced is
// encoded at once and written to the client. The chunks follow what OpenAI sends (wire-formats
// §1.6): a role chunk first, content / reasoning_content / tool_calls deltas, a finish chunk with
// an empty delta, the usage chunk with `choices: []` only when the client asked for usage, and
// `data: [DONE]` from End(). Every chunk carries the response's id, `created` and model.
//
// Threading: one encoder per response, used by one thread at a time.
#pragma once

#include <cstdint>
#include <string>

#include "proxy/provider/canonical.h"

namespace llmesh::provider {

class OpenAiStreamEncoder {
 public:
  // `include_usage`: the client asked for stream_options.include_usage. `created` is the unix
  // time the chunks carry.
  OpenAiStreamEncoder(bool include_usage, int64_t created) : include_usage_(include_usage), created_(created) {}

  // Appends the SSE for `event` to `out` (nothing for a usage event the client did not ask for).
  void Encode(const StreamEvent& event, std::string& out);
  // Appends the terminator, `data: [DONE]`.
  void End(std::string& out);

 private:
  void AppendChunk(std::string_view delta_and_finish, std::string& out);

  const bool include_usage_;
  const int64_t created_;
  std::string id_ = "chatcmpl-llmesh";
  std::string model_;
};

}  // namespace llmesh::provider
