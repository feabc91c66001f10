// Splits the text of a JSON object into its top-level members without building a tree.
//
// Passthrough adapters rewrite one or two top-level fields of the client's body (`model`,
// `stream_options`) and copy everything else byte for byte, so numbers, escapes and large
// payloads (base64 images) reach the provider exactly as the client sent them and are never
// re-serialised. Pure functions; thread-safe.
#pragma once

#include <string_view>

#include "absl/container/inlined_vector.h"

namespace llmesh::provider {

struct JsonMember {
  std::string_view key;    // the key token as written, quotes included ("\"model\"")
  std::string_view value;  // the value's text as written
};

using JsonMembers = absl::InlinedVector<JsonMember, 16>;

// Fills `members` with the top-level members of `text`, in order. Meant for text already
// validated as a JSON object (it checks structure, not every token); returns false when the
// text is not shaped like one, and the caller must then fall back to the parsed tree.
bool SplitTopLevelMembers(std::string_view text, JsonMembers& members);

// True when the key token (quotes included, escapes allowed) names `name`.
bool KeyIs(std::string_view key_token, std::string_view name);

}  // namespace llmesh::provider
