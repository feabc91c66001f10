// Store tests of schema migrations (user_version) and of weight overrides.
#include <sqlite3.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "controlplane/store/migrations.h"
#include "controlplane/store/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/controlplane/store/store_test_util.h"

namespace llmesh::control {
namespace {

using ::testing::HasSubstr;
using testing_store::MakeProvider;
using testing_store::MakeRoute;
using testing_store::OpenOrDie;
using testing_store::TempDir;
using Route = llmesh::config::v1::Route;

TEST(StoreMigrationTest, FreshStoreIsAtTheLatestSchemaVersion) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("store.db"));
  auto version = store->SchemaVersion();
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, LatestSchemaVersion());
  EXPECT_GE(LatestSchemaVersion(), 1);
  // Reopening an up-to-date store is a no-op.
  store.reset();
  EXPECT_NE(OpenOrDie(dir.File("store.db")), nullptr);
}

TEST(StoreMigrationTest, StoreWithANewerSchemaIsRefusedNamingBothVersions) {
  TempDir dir;
  const std::string path = dir.File("store.db");
  const int newer = LatestSchemaVersion() + 1;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, absl::StrCat("PRAGMA user_version = ", newer).c_str(), nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  auto store = Store::Open(path);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(),
              HasSubstr(absl::StrCat("store schema version ", newer,
                                     " is newer than the latest this llmesh-control knows (",
                                     LatestSchemaVersion(), ")")));
}

TEST(StoreOverrideTest, OverridesExpireAndGoWithTheirRoute) {
  TempDir dir;
  absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  auto store = OpenOrDie(dir.File("store.db"), {.wall_clock = [&] { return now; }});
  ASSERT_TRUE(store->ApplyProvider(MakeProvider("a", {"m"}), {}).ok());
  ASSERT_TRUE(store->ApplyProvider(MakeProvider("b", {"m"}), {}).ok());
  Route chat = MakeRoute("chat", "a", "m");
  auto* second = chat.add_targets();
  second->set_provider("b");
  second->set_model("m");
  ASSERT_TRUE(store->ApplyRoute(chat, {}).ok());

  StoredWeightOverride drain{.route = "chat",
                       .provider = "a",
                       .model = "m",
                       .expire_time = now + absl::Minutes(10),
                       .comment = "INC-1"};
  auto set = store->SetWeightOverride(drain);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->create_time, now);
  StoredWeightOverride pin{.route = "chat",
                     .provider = "b",
                     .model = "m",
                     .weight = 2500,
                     .expire_time = now + absl::Minutes(30)};
  ASSERT_TRUE(store->SetWeightOverride(pin).ok());

  auto active = store->ListWeightOverrides(now);
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 2u);
  EXPECT_EQ((*active)[0].provider, "a");
  EXPECT_FALSE((*active)[0].weight.has_value());
  EXPECT_EQ((*active)[0].comment, "INC-1");
  EXPECT_EQ((*active)[1].weight, 2500u);

  // Replacing a route keeps its overrides.
  chat.mutable_targets(0)->set_priority(1);
  ASSERT_TRUE(store->ApplyRoute(chat, {}).ok());
  EXPECT_EQ(store->ListWeightOverrides(now)->size(), 2u);

  now += absl::Minutes(10);  // the drain lapses exactly now
  active = store->ListWeightOverrides(now);
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].provider, "b");
  EXPECT_EQ(store->ClearWeightOverride("chat", "a", "m", now).code(), absl::StatusCode::kNotFound);

  ASSERT_TRUE(store->DeleteRoute("chat", {}).ok());
  EXPECT_EQ(store->ListWeightOverrides(now)->size(), 0u);
}

TEST(StoreOverrideTest, ClearRemovesAnActiveOverride) {
  TempDir dir;
  absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  auto store = OpenOrDie(dir.File("store.db"), {.wall_clock = [&] { return now; }});
  ASSERT_TRUE(store->ApplyProvider(MakeProvider("a", {"m"}), {}).ok());
  ASSERT_TRUE(store->ApplyRoute(MakeRoute("chat", "a", "m"), {}).ok());
  ASSERT_TRUE(store
                  ->SetWeightOverride({.route = "chat",
                                       .provider = "a",
                                       .model = "m",
                                       .weight = 100,
                                       .expire_time = now + absl::Hours(1)})
                  .ok());
  EXPECT_TRUE(store->ClearWeightOverride("chat", "a", "m", now).ok());
  EXPECT_EQ(store->ListWeightOverrides(now)->size(), 0u);
  EXPECT_EQ(store->ClearWeightOverride("chat", "a", "m", now).code(), absl::StatusCode::kNotFound);
}

TEST(StoreOverrideTest, InvalidOverridesAreRefused) {
  TempDir dir;
  absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  auto store = OpenOrDie(dir.File("store.db"), {.wall_clock = [&] { return now; }});
  ASSERT_TRUE(store->ApplyProvider(MakeProvider("a", {"m"}), {}).ok());
  ASSERT_TRUE(store->ApplyRoute(MakeRoute("chat", "a", "m"), {}).ok());
  const absl::Time later = now + absl::Hours(1);
  EXPECT_EQ(store
                ->SetWeightOverride(
                    {.route = "nope", .provider = "a", .model = "m", .expire_time = later})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store
                ->SetWeightOverride(
                    {.route = "chat", .provider = "a", .model = "x", .expire_time = later})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store
                ->SetWeightOverride({.route = "chat",
                                     .provider = "a",
                                     .model = "m",
                                     .weight = 10001,
                                     .expire_time = later})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      store->SetWeightOverride({.route = "chat", .provider = "a", .model = "m", .expire_time = now})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store
                ->SetWeightOverride({.route = "chat",
                                     .provider = "a",
                                     .model = "m",
                                     .expire_time = now + absl::Hours(24 * 31)})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->ListWeightOverrides(now)->size(), 0u);
}

}  // namespace
}  // namespace llmesh::control
