#include "proxy/xds/state_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace llmesh::xds {
namespace {

namespace dv1 = llmesh::discovery::v1;

std::string MakeTempDir() {
  std::string pattern = ::testing::TempDir() + "/xds_state_XXXXXX";
  EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
  return pattern;
}

VersionedRoutes SampleRoutes(std::string version) {
  VersionedRoutes routes;
  routes.version = std::move(version);
  auto* provider = routes.routes.add_providers();
  provider->set_name("local");
  provider->set_base_url("http://127.0.0.1:9/");
  auto* route = routes.routes.add_routes();
  route->set_model("chat");
  auto* target = route->add_targets();
  target->set_provider("local");
  target->set_model("m");
  return routes;
}

void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(StateDirTest, SavedRouteConfigurationLoadsBackWithItsVersion) {
  const std::string dir = MakeTempDir();
  ASSERT_TRUE(SaveRouteConfiguration(dir, SampleRoutes("v1")).ok());
  absl::StatusOr<VersionedRoutes> loaded = LoadRouteConfiguration(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->version, "v1");
  EXPECT_EQ(loaded->routes.SerializeAsString(), SampleRoutes("v1").routes.SerializeAsString());
}

TEST(StateDirTest, ASecondSaveReplacesTheFirstAndLeavesNoTemporaryFile) {
  const std::string dir = MakeTempDir();
  ASSERT_TRUE(SaveRouteConfiguration(dir, SampleRoutes("v1")).ok());
  VersionedRoutes second = SampleRoutes("v2");
  second.routes.mutable_routes(0)->set_model("other");
  ASSERT_TRUE(SaveRouteConfiguration(dir, second).ok());
  absl::StatusOr<VersionedRoutes> loaded = LoadRouteConfiguration(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->version, "v2");
  EXPECT_EQ(loaded->routes.routes(0).model(), "other");
  EXPECT_NE(::access((RouteConfigurationPath(dir) + ".tmp").c_str(), F_OK), 0);
}

TEST(StateDirTest, SaveCreatesAMissingStateDir) {
  const std::string dir = MakeTempDir() + "/state";
  ASSERT_TRUE(SaveRouteConfiguration(dir, SampleRoutes("v1")).ok());
  EXPECT_TRUE(LoadRouteConfiguration(dir).ok());
}

TEST(StateDirTest, EmptyStateDirIsNotFound) {
  const std::string dir = MakeTempDir();
  absl::StatusOr<VersionedRoutes> loaded = LoadRouteConfiguration(dir);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(loaded.status().message(),
            absl::StrCat("cannot read \"", RouteConfigurationPath(dir), "\": No such file or directory"));
}

TEST(StateDirTest, GarbageFileIsDataLoss) {
  const std::string dir = MakeTempDir();
  WriteFile(RouteConfigurationPath(dir), "\xff\xff\xff\xff not a proto");
  absl::StatusOr<VersionedRoutes> loaded = LoadRouteConfiguration(dir);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(loaded.status().message(), absl::StrCat("\"", RouteConfigurationPath(dir), "\" is not a saved route configuration"));
}

TEST(StateDirTest, TruncatedFileIsDataLoss) {
  const std::string dir = MakeTempDir();
  ASSERT_TRUE(SaveRouteConfiguration(dir, SampleRoutes("v1")).ok());
  std::ifstream in(RouteConfigurationPath(dir), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 3u);
  bytes.resize(bytes.size() - 3);
  WriteFile(RouteConfigurationPath(dir), bytes);
  EXPECT_EQ(LoadRouteConfiguration(dir).status().code(), absl::StatusCode::kDataLoss);
}

TEST(StateDirTest, FileWithoutARouteConfigurationIsDataLoss) {
  const std::string dir = MakeTempDir();
  dv1::DiscoveryResponse wrong;
  wrong.set_version_info("v1");
  wrong.set_type_url(kWeightAssignmentTypeUrl);
  wrong.add_resources()->mutable_weight_assignment();
  WriteFile(RouteConfigurationPath(dir), wrong.SerializeAsString());
  absl::StatusOr<VersionedRoutes> loaded = LoadRouteConfiguration(dir);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(loaded.status().message(),
            absl::StrCat("\"", RouteConfigurationPath(dir), "\" does not hold exactly one versioned route configuration"));
}

}  // namespace
}  // namespace llmesh::xds
