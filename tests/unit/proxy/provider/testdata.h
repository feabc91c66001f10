// Reads golden payloads from tests/testdata/provider/ for the provider tests.
#pragma once

#include <string>
#include <string_view>

namespace llmesh::provider::testing {

// The bytes of tests/testdata/provider/<relative_path>; fails the current test (and returns
// "") when the file cannot be read.
std::string ReadTestdata(std::string_view relative_path);

}  // namespace llmesh::provider::testing
