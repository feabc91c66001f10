// Shared helpers of the provider adapter tests (tests/unit/proxy/provider/ and its anthropic/
// and gemini/ folders): builders of canonical stream events for the stream encoder tests, the
// header list of an encoded upstream request, and a client request parsed from its body.
//
// Test-only code; pure functions, used from the test thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/provider/canonical.h"
#include "proxy/provider/provider.h"

namespace llmesh::provider::testing {

// kStart of response `id` from `model`.
StreamEvent StartEvent(std::string id, std::string model);

// An event of `kind` carrying `text` (kText, kReasoning, or kToolCallArguments of call
// `tool_index`).
StreamEvent ContentEvent(StreamEvent::Kind kind, std::string text, uint32_t tool_index = 0);

// kToolCallStart of call `index` with call id `id` and function `name`.
StreamEvent ToolCallStartEvent(uint32_t index, std::string id, std::string name);

// kFinish for `reason` with the usage known at that point.
StreamEvent FinishEvent(FinishReason reason, Usage usage = {});

// kUsage with the final `usage`.
StreamEvent UsageEvent(Usage usage);

// The headers of `encoded` as (name, value) pairs, in order, for ElementsAre(Pair(...)).
std::vector<std::pair<std::string, std::string>> HeaderList(const EncodedRequest& encoded);

// The client request ParseClientRequest makes of `body` (in `format`); fails the current test
// and returns an empty request when parsing fails.
ClientRequest ParsedClientRequest(Operation operation, std::string_view body, ApiFormat format = ApiFormat::kOpenAi);

}  // namespace llmesh::provider::testing
