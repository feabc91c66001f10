#include "controlplane/admin/bearer_auth.h"

#include <string_view>

#include "gtest/gtest.h"

namespace llmesh::control {
namespace {

absl::StatusCode CodeOf(const BearerAuth& auth, std::string_view header) {
  return auth.Check(&header).code();
}

TEST(BearerAuthTest, AcceptsTheConfiguredTokenWithAnyCaseOfTheScheme) {
  BearerAuth auth("tok");
  EXPECT_EQ(CodeOf(auth, "Bearer tok"), absl::StatusCode::kOk);
  EXPECT_EQ(CodeOf(auth, "bearer tok"), absl::StatusCode::kOk);
}

TEST(BearerAuthTest, RefusesMissingMalformedAndWrongTokens) {
  BearerAuth auth("tok");
  EXPECT_EQ(auth.Check(nullptr).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(CodeOf(auth, "tok"), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(CodeOf(auth, "Basic tok"), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(CodeOf(auth, "Bearer to"), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(CodeOf(auth, "Bearer tok2"), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(CodeOf(auth, "Bearer "), absl::StatusCode::kUnauthenticated);
}

TEST(BearerAuthTest, WithoutAConfiguredTokenEverythingIsRefused) {
  BearerAuth auth("");
  EXPECT_FALSE(auth.configured());
  EXPECT_EQ(CodeOf(auth, "Bearer "), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(CodeOf(auth, "Bearer anything"), absl::StatusCode::kUnauthenticated);
}

TEST(BearerAuthTest, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

}  // namespace
}  // namespace llmesh::control
