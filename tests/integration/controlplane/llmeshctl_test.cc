// llmeshctl as a process against a real llmesh-control: list tables, apply -f (valid, invalid,
// --dry-run), a wrong token, sidecars and weight overrides, with exact output lines and exit
// codes. The admin API is also called directly to learn etags and versions and to check what
// was (not) stored.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "llmesh/admin/v1/admin.grpc.pb.h"
#include "tests/fakes/control_plane_process.h"
#include "tests/fakes/process_harness.h"

namespace llmesh::testing {
namespace {

namespace adminpb = llmesh::admin::v1;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::StartsWith;

constexpr const char* kToken = ControlPlaneProcess::kToken;

constexpr const char* kBootstrap = kTwoProviderBootstrap;

constexpr char kEmbedRoute[] = R"(
routes:
  - model: embed
    targets:
      - provider: secondary
        model: gpt-b
)";

constexpr char kTypoRoute[] = R"(
routes:
  - model: embed
    targets:
      - provider: opnai
        model: gpt-b
)";

class LlmeshctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    control_ = ControlPlaneProcess::Start(temp_, kBootstrap);
    ASSERT_NE(control_, nullptr);
  }

  CtlRun Ctl(std::vector<std::string> args, std::string token = kToken) {
    return control_->Ctl(std::move(args), std::move(token));
  }

  static std::unique_ptr<grpc::ClientContext> Context() { return ControlPlaneProcess::Context(); }

  adminpb::ListRoutesResponse Routes() {
    adminpb::ListRoutesResponse routes;
    grpc::Status status = control_->admin().ListRoutes(Context().get(), {}, &routes);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return routes;
  }

  ScopedTempDir temp_;
  std::unique_ptr<ControlPlaneProcess> control_;
};

TEST_F(LlmeshctlTest, RoutesListShowsTheBootstrappedRouteAsAnAlignedTable) {
  const adminpb::ListRoutesResponse routes = Routes();
  ASSERT_EQ(routes.routes_size(), 1);
  const CtlRun run = Ctl({"routes", "list"});
  EXPECT_EQ(run.exit_code, std::optional<int>(0));
  EXPECT_THAT(run.lines,
              ElementsAre(absl::StrFormat("NAME  MODEL  STRATEGY  %-31s  ETAG", "TARGETS"),
                          absl::StrFormat("chat  chat   -         %-31s  %s",
                                          "primary/gpt-a,secondary/gpt-b@1",
                                          routes.routes(0).etag())));
}

TEST_F(LlmeshctlTest, AppliedRouteFileIsStoredAndListed) {
  const CtlRun run = Ctl({"routes", "apply", "-f", temp_.WriteFile("embed.yaml", kEmbedRoute)});
  EXPECT_EQ(run.exit_code, std::optional<int>(0));
  const adminpb::ListRoutesResponse routes = Routes();
  ASSERT_EQ(routes.routes_size(), 2);
  EXPECT_EQ(routes.routes(1).route().model(), "embed");
  EXPECT_THAT(run.lines, ElementsAre(absl::StrCat("route/embed: applied, etag ",
                                                  routes.routes(1).etag()),
                                     absl::StrCat("version: ", routes.route_configuration_version())));

  const CtlRun list = Ctl({"routes", "list"});
  EXPECT_EQ(list.exit_code, std::optional<int>(0));
  ASSERT_EQ(list.lines.size(), 3u);
  EXPECT_THAT(list.lines[2], StartsWith("embed  embed  -         secondary/gpt-b  "));

  const CtlRun again = Ctl({"routes", "apply", "-f", temp_.WriteFile("embed.yaml", kEmbedRoute)});
  EXPECT_EQ(again.exit_code, std::optional<int>(0));
  EXPECT_THAT(again.lines, Contains("route/embed: unchanged"));
}

TEST_F(LlmeshctlTest, InvalidRouteIsRefusedWithItsFieldPathAndNothingIsStored) {
  const std::string before = Routes().route_configuration_version();
  const CtlRun run = Ctl({"routes", "apply", "-f", temp_.WriteFile("typo.yaml", kTypoRoute)});
  EXPECT_EQ(run.exit_code, std::optional<int>(1));
  EXPECT_THAT(run.lines, Contains("route/embed: refused"));
  EXPECT_THAT(run.lines, Contains(R"(error: INVALID_ARGUMENT: routes[1].targets[0].provider: unknown provider "opnai")"));
  const adminpb::ListRoutesResponse after = Routes();
  EXPECT_EQ(after.routes_size(), 1);
  EXPECT_EQ(after.route_configuration_version(), before);
}

TEST_F(LlmeshctlTest, StaleEtagIsRefusedWithAborted) {
  const std::string file = temp_.WriteFile("chat.yaml", R"(
routes:
  - model: chat
    targets:
      - provider: primary
        model: gpt-a
)");
  const CtlRun run = Ctl({"routes", "apply", "-f", file, "--etag", "stale"});
  EXPECT_EQ(run.exit_code, std::optional<int>(1));
  EXPECT_THAT(run.lines, Contains(StartsWith("error: ABORTED: ")));
  EXPECT_EQ(Routes().routes(0).route().targets_size(), 2);
}

TEST_F(LlmeshctlTest, DryRunValidatesAndStoresNothing) {
  const std::string before = Routes().route_configuration_version();
  const CtlRun run =
      Ctl({"routes", "apply", "-f", temp_.WriteFile("embed.yaml", kEmbedRoute), "--dry-run"});
  EXPECT_EQ(run.exit_code, std::optional<int>(0));
  ASSERT_EQ(run.lines.size(), 2u);
  EXPECT_EQ(run.lines[0], "route/embed: valid (dry run, nothing stored)");
  EXPECT_THAT(run.lines[1], StartsWith("would be version: "));
  EXPECT_NE(run.lines[1], absl::StrCat("would be version: ", before));
  const adminpb::ListRoutesResponse after = Routes();
  EXPECT_EQ(after.routes_size(), 1);
  EXPECT_EQ(after.route_configuration_version(), before);
}

TEST_F(LlmeshctlTest, WrongOrMissingTokenExitsWithThreeAndUnauthenticated) {
  for (const std::string token : {"not-the-token", ""}) {
    const CtlRun run = Ctl({"routes", "list"}, token);
    EXPECT_EQ(run.exit_code, std::optional<int>(3)) << token;
    ASSERT_EQ(run.lines.size(), 1u) << token;
    EXPECT_THAT(run.lines[0], StartsWith("error: UNAUTHENTICATED: ")) << token;
  }
}

TEST_F(LlmeshctlTest, SidecarsWithNoneConnectedPrintsTheHeaderOnly) {
  const CtlRun run = Ctl({"sidecars"});
  EXPECT_EQ(run.exit_code, std::optional<int>(0));
  EXPECT_THAT(run.lines,
              ElementsAre("NODE  STATUS  CONNECTED  PEER  ROUTES  WEIGHTS  LAST_SEEN  ERROR"));
}

TEST_F(LlmeshctlTest, WeightOverrideIsSetListedAndCleared) {
  const CtlRun set = Ctl({"weights", "override", "chat", "primary", "gpt-a", "2500", "--ttl", "10m",
                       "--comment", "INC-1"});
  EXPECT_EQ(set.exit_code, std::optional<int>(0));
  adminpb::ListWeightOverridesResponse overrides;
  ASSERT_TRUE(control_->admin().ListWeightOverrides(Context().get(), {}, &overrides).ok());
  ASSERT_EQ(overrides.overrides_size(), 1);
  const std::string expires =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                       absl::FromUnixSeconds(overrides.overrides(0).expire_time().seconds()),
                       absl::UTCTimeZone());
  EXPECT_THAT(set.lines, ElementsAre(absl::StrCat(
                             "override chat/primary/gpt-a: weight 2500 (25.00%) until ", expires)));

  const CtlRun list = Ctl({"weights", "list"});
  EXPECT_EQ(list.exit_code, std::optional<int>(0));
  EXPECT_THAT(list.lines,
              ElementsAre(absl::StrFormat("ROUTE  PROVIDER  MODEL  %-20s  %-20s  COMMENT", "ACTION",
                                          "EXPIRES"),
                          absl::StrCat("chat   primary   gpt-a  weight 2500 (25.00%)  ", expires,
                                       "  INC-1")));

  const CtlRun clear = Ctl({"weights", "clear", "chat", "primary", "gpt-a"});
  EXPECT_EQ(clear.exit_code, std::optional<int>(0));
  EXPECT_THAT(clear.lines, ElementsAre("override chat/primary/gpt-a: cleared"));
  const CtlRun cleared_again = Ctl({"weights", "clear", "chat", "primary", "gpt-a"});
  EXPECT_EQ(cleared_again.exit_code, std::optional<int>(1));
  ASSERT_EQ(cleared_again.lines.size(), 1u);
  EXPECT_THAT(cleared_again.lines[0], StartsWith("error: NOT_FOUND: "));
}

TEST_F(LlmeshctlTest, GetPrintsTheStoredObjectAsJsonAndUnknownNamesExitWithOne) {
  const CtlRun get = Ctl({"routes", "get", "chat"});
  EXPECT_EQ(get.exit_code, std::optional<int>(0));
  EXPECT_THAT(get.lines, Contains(R"(  "model": "chat",)"));
  const CtlRun missing = Ctl({"providers", "get", "nope"});
  EXPECT_EQ(missing.exit_code, std::optional<int>(1));
  ASSERT_EQ(missing.lines.size(), 1u);
  EXPECT_THAT(missing.lines[0], StartsWith("error: NOT_FOUND: "));
}

TEST_F(LlmeshctlTest, UsageErrorsExitWithTwo) {
  EXPECT_EQ(Ctl({"routes", "apply"}).exit_code, std::optional<int>(2));
  EXPECT_EQ(Ctl({"weights", "drain", "chat", "primary", "gpt-a"}).exit_code,
            std::optional<int>(2));
  const CtlRun unknown = Ctl({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, std::optional<int>(2));
  EXPECT_THAT(unknown.lines, ElementsAre(R"(llmeshctl: unknown command "frobnicate" (llmeshctl --help for usage))"));
}

}  // namespace
}  // namespace llmesh::testing
