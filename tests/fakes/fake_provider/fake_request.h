// Request-side helpers every flavor of the fake provider shares: reading a JSON request body
// (small documents cost no heap allocation) and deciding what a chat answer consists of for a
// planned request (text pieces or a tool call, and the token counts to report).
//
// Threading: pure functions; a ChatAnswer belongs to one request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "tests/fakes/fake_provider/fake_render.h"
#include "tests/fakes/fake_provider/fake_script.h"

namespace llmesh::fakes {

// Parses `body` on a stack arena and, if it is a JSON object, calls `read(const
// boost::json::object&)` and returns true; false (without calling) otherwise. Views into the
// object die when `read` returns.
template <typename Read>
bool ReadJsonObject(std::string_view body, Read&& read) {
  unsigned char arena[8192];
  boost::json::monotonic_resource resource(arena, sizeof(arena));
  boost::system::error_code ec;
  const boost::json::value root =
      boost::json::parse(boost::json::string_view(body.data(), body.size()), ec, &resource);
  if (ec || !root.is_object()) return false;
  read(root.get_object());
  return true;
}

// The string at `key`, or nullopt when absent or not a string. A view into `object`.
std::optional<std::string_view> StringField(const boost::json::object& object,
                                            std::string_view key);
// The bool at `key`; false when absent or not a bool.
bool BoolField(const boost::json::object& object, std::string_view key);
// The integer at `key`, or nullopt when absent or not an integer.
std::optional<int64_t> IntField(const boost::json::object& object, std::string_view key);

// What a chat answer consists of, the same for every flavor.
struct ChatAnswer {
  // Text pieces ("<name>-0 " ...): the script's `chunks`, 0 when the answer is a tool call.
  int64_t pieces = 3;
  TokenCounts tokens;
  // Set when the script asks for a tool call (tool_call / tool_arguments).
  std::optional<ToolCallText> tool;
  // The scripted refusal (`blocked` with the failure part applying): no pieces, no output.
  bool blocked = false;
};

// The answer to a chat request of `body_bytes` bytes under `script` (`failing`: its failure
// part applies): prompt tokens are PromptTokens(body_bytes), cached tokens the script's (at
// most the prompt), output one per piece (one for a tool call, none when blocked), reasoning
// the script's.
ChatAnswer MakeChatAnswer(const FakeScript& script, bool failing, size_t body_bytes);

}  // namespace llmesh::fakes
