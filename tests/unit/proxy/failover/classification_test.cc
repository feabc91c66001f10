#include "proxy/failover/classification.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace llmesh::failover {
namespace {

using provider::FailureKind;

struct Expectation {
  FailureKind kind;
  Verdict verdict;
  bool health_failure;
  absl::StatusCode code;
};

// One row per FailureKind, in declaration order, so a new kind shows up as a count mismatch.
constexpr Expectation kTable[] = {
    {FailureKind::kConnect, Verdict::kNextTarget, true, absl::StatusCode::kUnavailable},
    {FailureKind::kReset, Verdict::kNextTarget, true, absl::StatusCode::kUnavailable},
    {FailureKind::kTimeout, Verdict::kNextTarget, true, absl::StatusCode::kDeadlineExceeded},
    {FailureKind::kRateLimited, Verdict::kNextTarget, true, absl::StatusCode::kResourceExhausted},
    {FailureKind::kOverloaded, Verdict::kNextTarget, true, absl::StatusCode::kUnavailable},
    {FailureKind::kServerError, Verdict::kNextTarget, true, absl::StatusCode::kUnavailable},
    {FailureKind::kMalformed, Verdict::kNextTarget, true, absl::StatusCode::kUnavailable},
    {FailureKind::kInvalidRequest, Verdict::kFail, false, absl::StatusCode::kInvalidArgument},
    {FailureKind::kContextLength, Verdict::kLargerContextOnly, false,
     absl::StatusCode::kInvalidArgument},
    {FailureKind::kAuth, Verdict::kSkipTarget, false, absl::StatusCode::kUnauthenticated},
    {FailureKind::kModelNotFound, Verdict::kSkipTarget, false, absl::StatusCode::kNotFound},
    {FailureKind::kQuota, Verdict::kSkipTarget, false, absl::StatusCode::kResourceExhausted},
};

TEST(ClassificationTest, TableCoversEveryFailureKindInOrder) {
  ASSERT_EQ(std::size(kTable), static_cast<size_t>(FailureKind::kQuota) + 1);
  for (size_t i = 0; i < std::size(kTable); ++i) {
    EXPECT_EQ(static_cast<size_t>(kTable[i].kind), i);
  }
}

TEST(ClassificationTest, ClassifiesEveryKindPerDesign) {
  for (const Expectation& row : kTable) {
    SCOPED_TRACE(static_cast<int>(row.kind));
    EXPECT_EQ(Classify(row.kind), row.verdict);
    EXPECT_EQ(IsHealthFailure(row.kind), row.health_failure);
    EXPECT_EQ(CanonicalCode(row.kind), row.code);
  }
}

TEST(ClassificationTest, RetryableKindsAreExactlyTheHealthFailures) {
  for (const Expectation& row : kTable) {
    EXPECT_EQ(IsHealthFailure(row.kind), Classify(row.kind) == Verdict::kNextTarget);
  }
}

TEST(ClassificationTest, AuthAnsweredWith403IsPermissionDenied) {
  provider::UpstreamFailure failure;
  failure.kind = FailureKind::kAuth;
  failure.http_status = 403;
  EXPECT_EQ(CanonicalCode(failure), absl::StatusCode::kPermissionDenied);
  failure.http_status = 401;
  EXPECT_EQ(CanonicalCode(failure), absl::StatusCode::kUnauthenticated);
}

TEST(ClassificationTest, UpstreamFailureOfOtherKindsUsesTheKindAlone) {
  provider::UpstreamFailure failure;
  failure.kind = FailureKind::kRateLimited;
  failure.http_status = 403;
  EXPECT_EQ(CanonicalCode(failure), absl::StatusCode::kResourceExhausted);
}

TEST(ClassificationTest, VerdictNamesAreStable) {
  EXPECT_EQ(VerdictName(Verdict::kNextTarget), "next_target");
  EXPECT_EQ(VerdictName(Verdict::kSkipTarget), "skip_target");
  EXPECT_EQ(VerdictName(Verdict::kLargerContextOnly), "larger_context_only");
  EXPECT_EQ(VerdictName(Verdict::kFail), "fail");
}

}  // namespace
}  // namespace llmesh::failover
