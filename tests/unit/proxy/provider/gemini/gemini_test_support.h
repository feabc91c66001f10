// Shared helpers of the Gemini adapter tests: canonical requests built from OpenAI-shaped
// golden inputs, golden JSON comparison, and a readable rendering of canonical stream events.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "proxy/provider/canonical.h"
#include "proxy/provider/provider.h"

namespace llmesh::provider::testing {

// A client request parsed from an OpenAI-shaped body, with its canonical form filled in the way
// the OpenAI codec fills it for a translating target.
ClientRequest CanonicalRequest(Operation operation, std::string_view openai_body);

// `json` re-serialized compactly in its own member order: golden files may be pretty-printed
// and still be compared byte for byte with an encoder's output.
std::string Compact(std::string_view json);

// One line per event, e.g. `text "Hel"`, `finish tool_calls usage=5/7/0/0`
// (usage = prompt/completion/cached/reasoning).
std::string RenderEvents(const std::vector<StreamEvent>& events);

}  // namespace llmesh::provider::testing
