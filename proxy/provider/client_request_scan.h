// Reads a client's request body in one pass, without building a JSON tree.
//
// A request whose route only has targets of the client's own format is passed through: the
// adapter copies the client's bytes and rewrites `model`, so all the proxy needs is to know that
// the body is valid and what it asks for (model, stream, include_usage). Building a tree of every
// message for that cost as much as the rest of the request's parsing, and held a second copy of
// the prompt. ParseClientRequest reads with this first and builds the tree only when this cannot
// decide: invalid JSON, a check that fails (the tree path words the error), a member it reads
// written twice or with escapes in its key or (for model) its value, a value of another type
// than expected. So both paths always agree.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "proxy/provider/canonical.h"
#include "proxy/provider/provider.h"

namespace llmesh::provider {

// What ParseClientRequest takes from a request that passes its checks.
struct ClientRequestOutline {
  std::string model;
  bool stream = false;
  bool include_usage = false;
  // Where the value of `model` sits in the body, its quotes included.
  size_t model_begin = 0;
  size_t model_size = 0;
};

// The outline of `body`, a request for `operation` in the client's `format`, when the body is
// valid JSON (as ParseJson accepts it) and passes every check ParseClientRequest makes;
// nullopt when it does not or when this reading cannot tell (see above).
std::optional<ClientRequestOutline> ScanClientRequest(Operation operation, ApiFormat format, std::string_view body);

}  // namespace llmesh::provider
