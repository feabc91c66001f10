#include "controlplane/store/store.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "controlplane/store/version.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/controlplane/store/store_test_util.h"

namespace llmesh::control {
namespace {

using llmesh::config::v1::Provider;
using llmesh::config::v1::Route;
using ::testing::HasSubstr;

using testing_store::MakeProvider;
using testing_store::MakeRoute;
using testing_store::OpenOrDie;
using testing_store::TempDir;
using testing_store::VersionOf;

TEST(RouteConfigurationVersionTest, IsFirst16BytesOfSha256AsHex) {
  // SHA-256 of the empty string starts e3b0c44298fc1c149afbf4c8996fb924.
  EXPECT_EQ(RouteConfigurationVersion({}), "e3b0c44298fc1c149afbf4c8996fb924");
}

TEST(StoreTest, AppliesGetsListsAndDeletesProvidersAndRoutes) {
  TempDir dir;
  absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  auto store = OpenOrDie(dir.File("store.db"), {.wall_clock = [&] { return now; }});
  ASSERT_NE(store, nullptr);

  auto applied = store->ApplyProvider(MakeProvider("openai", {"gpt-4o-mini"}), {});
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_TRUE(applied->changed);
  EXPECT_EQ(applied->provider.etag, "1");
  EXPECT_EQ(applied->provider.create_time, now);
  ASSERT_TRUE(store->ApplyProvider(MakeProvider("anthropic", {"haiku"}), {}).ok());
  auto route = store->ApplyRoute(MakeRoute("chat", "openai", "gpt-4o-mini"), {});
  ASSERT_TRUE(route.ok()) << route.status();
  Route named = MakeRoute("fast", "anthropic", "haiku");
  named.set_name("fast-route");
  ASSERT_TRUE(store->ApplyRoute(named, {}).ok());

  auto providers = store->ListProviders();
  ASSERT_TRUE(providers.ok());
  ASSERT_EQ(providers->size(), 2u);
  EXPECT_EQ((*providers)[0].provider.name(), "anthropic");
  EXPECT_EQ((*providers)[1].provider.name(), "openai");
  auto routes = store->ListRoutes();
  ASSERT_TRUE(routes.ok());
  ASSERT_EQ(routes->size(), 2u);
  EXPECT_EQ((*routes)[0].route.model(), "chat");
  EXPECT_EQ((*routes)[1].route.name(), "fast-route");

  auto got = store->GetRoute("fast-route");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->route.SerializeAsString(), named.SerializeAsString());
  auto got_provider = store->GetProvider("openai");
  ASSERT_TRUE(got_provider.ok());
  EXPECT_EQ(got_provider->etag, "1");

  // Replacing a route keeps its place in the match order and its create time.
  now += absl::Minutes(1);
  Route chat2 = MakeRoute("chat", "anthropic", "haiku");
  auto replaced = store->ApplyRoute(chat2, {});
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_EQ(replaced->route.etag, "5");
  EXPECT_EQ(replaced->route.update_time, now);
  EXPECT_EQ(replaced->route.create_time, now - absl::Minutes(1));
  routes = store->ListRoutes();
  ASSERT_TRUE(routes.ok());
  EXPECT_EQ((*routes)[0].route.targets(0).provider(), "anthropic");

  auto deleted = store->DeleteRoute("chat", {});
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->route_configuration_version, VersionOf(*store));
  ASSERT_TRUE(store->DeleteProvider("openai", {}).ok());
  EXPECT_EQ(store->GetRoute("chat").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->GetProvider("openai").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->DeleteRoute("chat", {}).status().code(), absl::StatusCode::kNotFound);
}

TEST(StoreTest, ApplyingIdenticalContentChangesNothing) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("store.db"));
  ASSERT_TRUE(store->ApplyProvider(MakeProvider("openai", {"m"}), {}).ok());
  const std::string version = VersionOf(*store);
  auto again = store->ApplyProvider(MakeProvider("openai", {"m"}), {});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed);
  EXPECT_EQ(again->provider.etag, "1");
  EXPECT_EQ(again->route_configuration_version, version);
}

TEST(StoreTest, StaleEtagIsAbortedAndLeavesDataUnchanged) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("store.db"));
  auto first = store->ApplyProvider(MakeProvider("openai", {"a"}), {});
  ASSERT_TRUE(first.ok());
  auto second = store->ApplyProvider(MakeProvider("openai", {"b"}), {.expected_etag = "1"});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->provider.etag, "2");
  const std::string version = VersionOf(*store);

  auto stale = store->ApplyProvider(MakeProvider("openai", {"c"}), {.expected_etag = "1"});
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(stale.status().message(), HasSubstr("etag mismatch: "));
  auto stale_delete = store->DeleteProvider("openai", {.expected_etag = "1"});
  EXPECT_EQ(stale_delete.status().code(), absl::StatusCode::kAborted);
  auto missing = store->ApplyProvider(MakeProvider("other", {"c"}), {.expected_etag = "2"});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kAborted);

  auto stored = store->GetProvider("openai");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->provider.models(0).name(), "b");
  EXPECT_EQ(stored->etag, "2");
  EXPECT_EQ(VersionOf(*store), version);
  EXPECT_EQ(store->GetProvider("other").status().code(), absl::StatusCode::kNotFound);
}

TEST(StoreTest, ValidateOnlyReportsTheOutcomeAndStoresNothing) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("store.db"));
  const std::string empty_version = VersionOf(*store);
  auto dry = store->ApplyProvider(MakeProvider("openai", {"m"}), {.validate_only = true});
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_TRUE(dry->changed);
  EXPECT_NE(dry->route_configuration_version, empty_version);
  EXPECT_EQ(store->ListProviders()->size(), 0u);
  EXPECT_EQ(VersionOf(*store), empty_version);

  ASSERT_TRUE(store->ApplyProvider(MakeProvider("openai", {"m"}), {}).ok());
  // The dry run named the version the real write produced.
  EXPECT_EQ(VersionOf(*store), dry->route_configuration_version);
  auto dry_delete = store->DeleteProvider("openai", {.validate_only = true});
  ASSERT_TRUE(dry_delete.ok());
  EXPECT_EQ(dry_delete->route_configuration_version, RouteConfigurationVersion({}));
  EXPECT_EQ(store->ListProviders()->size(), 1u);
}

TEST(StoreTest, InvalidRouteIsRefusedWithFieldPathAndNothingStored) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("store.db"));
  ASSERT_TRUE(store->ApplyProvider(MakeProvider("openai", {"gpt-4o-mini"}), {}).ok());
  ASSERT_TRUE(store->ApplyRoute(MakeRoute("chat", "openai", "gpt-4o-mini"), {}).ok());
  const std::string version = VersionOf(*store);

  Route bad = MakeRoute("other", "opnai", "gpt-4o-mini");
  bad.add_targets()->set_provider("openai");  // and a target without a model
  auto refused = store->ApplyRoute(bad, {});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(),
            "routes[1].targets[0].provider: unknown provider \"opnai\"\n"
            "routes[1].targets[1].model: required");
  EXPECT_EQ(store->GetRoute("other").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->ListRoutes()->size(), 1u);
  EXPECT_EQ(VersionOf(*store), version);

  Provider no_url = MakeProvider("broken", {"m"});
  no_url.clear_base_url();
  auto refused_provider = store->ApplyProvider(no_url, {});
  EXPECT_EQ(refused_provider.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused_provider.status().message(), "providers[0].base_url: required");
  EXPECT_EQ(store->ListProviders()->size(), 1u);
}

TEST(StoreTest, HostLocalCredentialFilesAreNotCheckedOnTheControlPlane) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("store.db"));
  Provider p = MakeProvider("openai", {"m"});
  p.set_api_key_file("/var/run/secrets/llmesh/openai-does-not-exist-here");
  p.set_ca_file("/etc/llmesh/ca-does-not-exist-here.pem");
  auto applied = store->ApplyProvider(p, {});
  EXPECT_TRUE(applied.ok()) << applied.status();
}

TEST(StoreTest, DeletingAProviderARouteUsesIsRefusedNamingTheRoute) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("store.db"));
  ASSERT_TRUE(store->ApplyProvider(MakeProvider("openai", {"m"}), {}).ok());
  ASSERT_TRUE(store->ApplyRoute(MakeRoute("chat", "openai", "m"), {}).ok());
  auto refused = store->DeleteProvider("openai", {});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            "provider \"openai\" is still used by routes[0].targets[0] (route \"chat\")");
  EXPECT_TRUE(store->GetProvider("openai").ok());
}

TEST(StoreTest, VersionFollowsContentNotTheOrderOfApplies) {
  TempDir dir;
  auto a = OpenOrDie(dir.File("a.db"));
  auto b = OpenOrDie(dir.File("b.db"));
  ASSERT_TRUE(a->ApplyProvider(MakeProvider("p1", {"m"}), {}).ok());
  ASSERT_TRUE(a->ApplyProvider(MakeProvider("p2", {"m"}), {}).ok());
  ASSERT_TRUE(b->ApplyProvider(MakeProvider("p2", {"m"}), {}).ok());
  ASSERT_TRUE(b->ApplyProvider(MakeProvider("p1", {"m"}), {}).ok());
  const std::string version = VersionOf(*a);
  EXPECT_EQ(version.size(), 32u);
  EXPECT_EQ(VersionOf(*b), version);

  auto snapshot = a->Snapshot();
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(RouteConfigurationVersion(snapshot->config), version);

  ASSERT_TRUE(a->ApplyProvider(MakeProvider("p1", {"m", "n"}), {}).ok());
  const std::string changed = VersionOf(*a);
  EXPECT_NE(changed, version);
  // Back to the same content: back to the same version, though the etag moved on.
  auto reverted = a->ApplyProvider(MakeProvider("p1", {"m"}), {});
  ASSERT_TRUE(reverted.ok());
  EXPECT_EQ(reverted->route_configuration_version, version);
  EXPECT_EQ(VersionOf(*a), version);
  EXPECT_EQ(reverted->provider.etag, "4");
}

TEST(StoreTest, AcknowledgedWritesSurviveCloseAndReopen) {
  TempDir dir;
  const std::string path = dir.File("store.db");
  std::string version;
  {
    auto store = OpenOrDie(path);
    ASSERT_TRUE(store->ApplyProvider(MakeProvider("openai", {"m"}), {}).ok());
    auto route = store->ApplyRoute(MakeRoute("chat", "openai", "m"), {});
    ASSERT_TRUE(route.ok());
    version = route->route_configuration_version;
  }
  auto reopened = OpenOrDie(path);
  auto snapshot = reopened->Snapshot();
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(snapshot->version, version);
  ASSERT_EQ(snapshot->config.routes_size(), 1);
  EXPECT_EQ(snapshot->config.routes(0).model(), "chat");
  // The revision counter survives too: etags never repeat.
  auto next = reopened->ApplyProvider(MakeProvider("other", {"m"}), {});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->provider.etag, "3");
}

TEST(StoreTest, SecondConnectionSeesEveryAcknowledgedWrite) {
  TempDir dir;
  const std::string path = dir.File("store.db");
  auto writer = OpenOrDie(path);
  auto reader = OpenOrDie(path);
  for (int i = 0; i < 5; ++i) {
    auto applied = writer->ApplyProvider(MakeProvider(absl::StrCat("p", i), {"m"}), {});
    ASSERT_TRUE(applied.ok()) << applied.status();
    auto snapshot = reader->Snapshot();
    ASSERT_TRUE(snapshot.ok());
    EXPECT_EQ(snapshot->config.providers_size(), i + 1);
    EXPECT_EQ(snapshot->version, applied->route_configuration_version);
  }
  // Writes through the second connection are seen by the first, with a conflict detected.
  auto from_reader = reader->ApplyProvider(MakeProvider("p0", {"x"}), {.expected_etag = "1"});
  ASSERT_TRUE(from_reader.ok()) << from_reader.status();
  auto stale = writer->ApplyProvider(MakeProvider("p0", {"y"}), {.expected_etag = "1"});
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
}

// A writer killed with SIGKILL in the middle of a stream of applies loses nothing it had
// acknowledged: the child reports each acknowledged apply through a pipe, the parent kills it
// after some of them and reopens the store.
TEST(StoreTest, AcknowledgedWritesSurviveSigkillDuringAStreamOfApplies) {
  TempDir dir;
  const std::string path = dir.File("store.db");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(path);
    if (!store.ok()) _exit(1);
    for (int i = 0; i < 100000; ++i) {
      auto applied = (*store)->ApplyProvider(MakeProvider(absl::StrCat("p", i), {"m"}), {});
      if (!applied.ok()) _exit(2);
      const int acked = i;
      if (write(fds[1], &acked, sizeof acked) != sizeof acked) _exit(3);
    }
    _exit(0);
  }
  close(fds[1]);
  constexpr int kAcksBeforeKill = 20;
  int last_acked = -1;
  for (int n = 0; n < kAcksBeforeKill; ++n) {
    int acked = 0;
    ASSERT_EQ(read(fds[0], &acked, sizeof acked), static_cast<ssize_t>(sizeof acked));
    last_acked = acked;
  }
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
  close(fds[0]);

  auto store = OpenOrDie(path);
  auto snapshot = store->Snapshot();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_GE(snapshot->config.providers_size(), last_acked + 1);
  for (int i = 0; i <= last_acked; ++i) {
    EXPECT_TRUE(store->GetProvider(absl::StrCat("p", i)).ok()) << i;
  }
  EXPECT_EQ(snapshot->version, RouteConfigurationVersion(snapshot->config));
}

TEST(StoreTest, BootstrapImportsOnFirstStartOnly) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("store.db"));
  llmesh::config::v1::Config file;
  file.set_listen("127.0.0.1:4000");  // not the store's business; ignored
  *file.add_providers() = MakeProvider("zeta", {"m"});
  *file.add_providers() = MakeProvider("alpha", {"m"});
  *file.add_routes() = MakeRoute("chat", "zeta", "m");
  *file.add_routes() = MakeRoute("*", "alpha", "m");

  auto imported = store->BootstrapIfEmpty(file);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_TRUE(*imported);
  auto snapshot = store->Snapshot();
  ASSERT_TRUE(snapshot.ok());
  ASSERT_EQ(snapshot->config.providers_size(), 2);
  EXPECT_EQ(snapshot->config.providers(0).name(), "alpha");
  ASSERT_EQ(snapshot->config.routes_size(), 2);
  EXPECT_EQ(snapshot->config.routes(0).model(), "chat");
  EXPECT_EQ(snapshot->config.routes(1).model(), "*");
  EXPECT_EQ(snapshot->version, RouteConfigurationVersion(snapshot->config));

  auto again = store->BootstrapIfEmpty(file);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);

  // Emptied by an operator: still not a first start.
  ASSERT_TRUE(store->DeleteRoute("chat", {}).ok());
  ASSERT_TRUE(store->DeleteRoute("*", {}).ok());
  ASSERT_TRUE(store->DeleteProvider("zeta", {}).ok());
  ASSERT_TRUE(store->DeleteProvider("alpha", {}).ok());
  auto after_delete = store->BootstrapIfEmpty(file);
  ASSERT_TRUE(after_delete.ok());
  EXPECT_FALSE(*after_delete);
  EXPECT_EQ(store->ListProviders()->size(), 0u);
}

TEST(StoreTest, InvalidBootstrapImportsNothing) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("store.db"));
  llmesh::config::v1::Config file;
  *file.add_routes() = MakeRoute("chat", "missing", "m");
  auto imported = store->BootstrapIfEmpty(file);
  EXPECT_EQ(imported.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(imported.status().message(),
            "routes[0].targets[0].provider: unknown provider \"missing\"");
  EXPECT_EQ(store->ListRoutes()->size(), 0u);
}

}  // namespace
}  // namespace llmesh::control
