#include "tests/unit/proxy/provider/testdata.h"

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace llmesh::provider::testing {

std::string ReadTestdata(std::string_view relative_path) {
  const std::string path = std::string(LLMESH_PROVIDER_TESTDATA) + "/" + std::string(relative_path);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace llmesh::provider::testing
