#include "proxy/provider/failure.h"

#include "gtest/gtest.h"

namespace llmesh::provider {
namespace {

TEST(FailureKindNameTest, NamesEveryKindInSnakeCase) {
  EXPECT_EQ(FailureKindName(FailureKind::kConnect), "connect");
  EXPECT_EQ(FailureKindName(FailureKind::kReset), "reset");
  EXPECT_EQ(FailureKindName(FailureKind::kTimeout), "timeout");
  EXPECT_EQ(FailureKindName(FailureKind::kRateLimited), "rate_limited");
  EXPECT_EQ(FailureKindName(FailureKind::kOverloaded), "overloaded");
  EXPECT_EQ(FailureKindName(FailureKind::kServerError), "server_error");
  EXPECT_EQ(FailureKindName(FailureKind::kMalformed), "malformed");
  EXPECT_EQ(FailureKindName(FailureKind::kInvalidRequest), "invalid_request");
  EXPECT_EQ(FailureKindName(FailureKind::kContextLength), "context_length");
  EXPECT_EQ(FailureKindName(FailureKind::kAuth), "auth");
  EXPECT_EQ(FailureKindName(FailureKind::kModelNotFound), "model_not_found");
  EXPECT_EQ(FailureKindName(FailureKind::kQuota), "quota");
}

}  // namespace
}  // namespace llmesh::provider
