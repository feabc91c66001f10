// A uniquely named file under the test's temporary directory, removed when it goes out of scope.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace llmesh::config {

class TempFile {
 public:
  explicit TempFile(std::string_view content) {
    std::string pattern = ::testing::TempDir() + "llmesh_config_XXXXXX";
    const int fd = ::mkstemp(pattern.data());
    EXPECT_GE(fd, 0);
    path_ = pattern;
    if (fd >= 0) {
      EXPECT_EQ(::write(fd, content.data(), content.size()),
                static_cast<ssize_t>(content.size()));
      ::close(fd);
    }
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() { ::unlink(path_.c_str()); }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace llmesh::config
