#include "controlplane/ctl/command_line.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace llmesh::control::ctl {
namespace {

absl::StatusOr<Invocation> Parse(std::vector<std::string> args) { return ParseCommandLine(args); }

TEST(CommandLineTest, DefaultsToTheLocalServer) {
  absl::StatusOr<Invocation> invocation = Parse({"routes", "list"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kRoutesList);
  EXPECT_EQ(invocation->server, "127.0.0.1:15010");
}

TEST(CommandLineTest, ApplyTakesFileDryRunAndEtagInAnyOrder) {
  absl::StatusOr<Invocation> invocation =
      Parse({"--dry-run", "providers", "apply", "--etag=7", "-f", "p.yaml", "--server", "h:1"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kProvidersApply);
  EXPECT_EQ(invocation->file, "p.yaml");
  EXPECT_TRUE(invocation->dry_run);
  EXPECT_EQ(invocation->etag, "7");
  EXPECT_EQ(invocation->server, "h:1");
}

TEST(CommandLineTest, WeightOverrideNeedsAWeightAndATtl) {
  absl::StatusOr<Invocation> invocation =
      Parse({"weights", "override", "chat", "p", "m", "2500", "--ttl", "1h30m", "--comment", "c"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command, Command::kWeightsOverride);
  EXPECT_EQ(invocation->name, "chat");
  EXPECT_EQ(invocation->provider, "p");
  EXPECT_EQ(invocation->model, "m");
  EXPECT_EQ(invocation->weight, 2500u);
  EXPECT_EQ(invocation->ttl, absl::Minutes(90));
  EXPECT_EQ(invocation->comment, "c");

  EXPECT_EQ(Parse({"weights", "override", "chat", "p", "m", "2500"}).status().message(),
            "weights override needs --ttl DURATION");
  EXPECT_EQ(Parse({"weights", "override", "chat", "p", "m", "half", "--ttl", "1m"}).status().message(),
            "weights override: WEIGHT must be basis points (1 to 10000), got \"half\"");
}

TEST(CommandLineTest, RefusesFlagsACommandDoesNotTake) {
  EXPECT_EQ(Parse({"routes", "list", "--dry-run"}).status().message(),
            "routes list does not take --dry-run");
  EXPECT_EQ(Parse({"weights", "clear", "r", "p", "m", "--ttl", "1m"}).status().message(),
            "weights clear does not take --ttl");
}

TEST(CommandLineTest, RefusesMissingAndExtraArguments) {
  EXPECT_EQ(Parse({"routes", "get"}).status().message(), "routes get: missing argument");
  EXPECT_EQ(Parse({"routes", "get", "a", "b"}).status().message(),
            "routes get: unexpected argument \"b\"");
  EXPECT_EQ(Parse({"routes", "apply"}).status().message(), "routes apply needs -f FILE");
  EXPECT_EQ(Parse({}).status().message(), "missing command");
  EXPECT_EQ(Parse({"--bogus"}).status().message(), "unknown flag --bogus");
}

TEST(CommandLineTest, HealthTakesAnOptionalRoute) {
  absl::StatusOr<Invocation> all = Parse({"health"});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->name, "");
  absl::StatusOr<Invocation> one = Parse({"health", "chat"});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->name, "chat");
}

TEST(CommandLineTest, UnusableServerCodesExitWithThreeAndRefusalsWithOne) {
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kUnauthenticated), kExitUnreachable);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kUnavailable), kExitUnreachable);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kDeadlineExceeded), kExitUnreachable);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kInvalidArgument), kExitRefused);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kAborted), kExitRefused);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kNotFound), kExitRefused);
}

}  // namespace
}  // namespace llmesh::control::ctl
