// Builds the origin-form request target of an upstream call from the path part of a
// provider's base_url and an endpoint path.
//
// Adapters call it from Encode: base_url "https://generativelanguage.googleapis.com/v1beta"
// gives base_path "/v1beta", and the endpoint is appended to it. Pure function; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace llmesh::provider {

// `base_path` + `endpoint`, with trailing slashes of base_path dropped and a leading slash
// added when base_path has none ("" and "/" both give `endpoint` alone). `endpoint` starts with
// '/' and is appended verbatim (it may carry a query: ":streamGenerateContent?alt=sse").
std::string JoinTargetPath(std::string_view base_path, std::string_view endpoint);

}  // namespace llmesh::provider
