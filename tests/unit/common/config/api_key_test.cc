#include "common/config/api_key.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/common/config/fake_env.h"
#include "tests/unit/common/config/temp_file.h"

namespace llmesh::config {
namespace {

using llmesh::config::v1::Provider;
using ::testing::Not;
using ::testing::HasSubstr;

Provider WithEnv(std::string var) {
  Provider p;
  p.set_name("openai");
  p.set_api_key_env(std::move(var));
  return p;
}

Provider WithFile(std::string path) {
  Provider p;
  p.set_name("openai");
  p.set_api_key_file(std::move(path));
  return p;
}

TEST(ResolveApiKeyTest, ReadsTheEnvironmentVariable) {
  absl::StatusOr<std::string> key =
      ResolveApiKey(WithEnv("OPENAI_API_KEY"), FakeEnv({{"OPENAI_API_KEY", "sk-env"}}));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, "sk-env");
}

TEST(ResolveApiKeyTest, UnsetOrEmptyVariableIsNotFound) {
  absl::StatusOr<std::string> key = ResolveApiKey(WithEnv("OPENAI_API_KEY"), FakeEnv({}));
  EXPECT_EQ(key.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(key.status().message(),
            "provider \"openai\": environment variable \"OPENAI_API_KEY\" is not set");
  key = ResolveApiKey(WithEnv("OPENAI_API_KEY"), FakeEnv({{"OPENAI_API_KEY", ""}}));
  EXPECT_EQ(key.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(key.status().message(),
            "provider \"openai\": environment variable \"OPENAI_API_KEY\" is empty");
}

TEST(ResolveApiKeyTest, ReadsTheFileWithoutTrailingWhitespace) {
  TempFile file("sk-file-123 \r\n\n");
  absl::StatusOr<std::string> key = ResolveApiKey(WithFile(file.path()), FakeEnv({}));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, "sk-file-123");
}

TEST(ResolveApiKeyTest, MissingFileIsNotFoundAndNamesProviderAndPath) {
  const std::string path = ::testing::TempDir() + "llmesh-no-such-key";
  absl::StatusOr<std::string> key = ResolveApiKey(WithFile(path), FakeEnv({}));
  EXPECT_EQ(key.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(key.status().message(), "provider \"openai\": API key file: cannot read \"" + path +
                                        "\": No such file or directory");
}

TEST(ResolveApiKeyTest, UnreadableFileIsPermissionDeniedWithoutTheKey) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can read any file";
  TempFile file("sk-secret");
  ASSERT_EQ(::chmod(file.path().c_str(), 0), 0);
  absl::StatusOr<std::string> key = ResolveApiKey(WithFile(file.path()), FakeEnv({}));
  EXPECT_EQ(key.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(key.status().message(), HasSubstr(file.path()));
  EXPECT_THAT(key.status().message(), Not(HasSubstr("sk-secret")));
}

TEST(ResolveApiKeyTest, EmptyFileIsAnError) {
  TempFile file(" \n");
  absl::StatusOr<std::string> key = ResolveApiKey(WithFile(file.path()), FakeEnv({}));
  EXPECT_EQ(key.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(key.status().message(),
            "provider \"openai\": API key file \"" + file.path() + "\" is empty");
}

TEST(ResolveApiKeyTest, OversizedFileIsRejectedWithoutItsContent) {
  TempFile file(std::string(70 * 1024, 'k'));
  absl::StatusOr<std::string> key = ResolveApiKey(WithFile(file.path()), FakeEnv({}));
  EXPECT_EQ(key.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(key.status().message(), "provider \"openai\": API key file: \"" + file.path() +
                                        "\" is larger than 65536 bytes");
}

TEST(ResolveApiKeyTest, NoCredentialIsAnEmptyKey) {
  Provider p;
  p.set_name("local");
  absl::StatusOr<std::string> key = ResolveApiKey(p, FakeEnv({}));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, "");
}

}  // namespace
}  // namespace llmesh::config
