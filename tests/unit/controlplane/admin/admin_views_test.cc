// ListSidecars and GetHealth: empty without their sources, composed from the store and the
// sources when given.
#include <string>

#include "controlplane/admin/admin_service.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/controlplane/admin/admin_test_server.h"

namespace llmesh::control {
namespace {

namespace adminpb = llmesh::admin::v1;
using testing_admin::AdminTestServer;

class FakeSidecarDirectory final : public SidecarDirectory {
 public:
  adminpb::ListSidecarsResponse ListSidecars(
      const adminpb::ListSidecarsRequest& request) const override {
    adminpb::ListSidecarsResponse response;
    if (request.status() == adminpb::SYNC_STATUS_UNSPECIFIED ||
        request.status() == adminpb::SYNCED) {
      adminpb::Sidecar* sidecar = response.add_sidecars();
      sidecar->mutable_node()->set_id("pod-a");
      sidecar->set_status(adminpb::SYNCED);
    }
    return response;
  }
};

class FakeHealthSource final : public HealthSource {
 public:
  HealthSnapshot Health() const override {
    HealthSnapshot snapshot;
    snapshot.window = absl::Seconds(60);
    snapshot.reporting_sidecars = 3;
    TargetHealthFigures figures;
    figures.attempts = 100;
    figures.successes = 90;
    figures.latency_p95 = absl::Milliseconds(1500);
    figures.error_rate = 0.1;
    snapshot.figures[TargetKey{"openai", "gpt"}] = figures;
    snapshot.weights[{"chat", "openai", "gpt"}] =
        RouteTargetWeight{false, 200, llmesh::discovery::v1::PROBE_FLOOR, "error rate 10% > 5%"};
    return snapshot;
  }
};

void Seed(AdminTestServer& server) {
  adminpb::ApplyProviderRequest provider;
  provider.mutable_provider()->set_name("openai");
  provider.mutable_provider()->set_kind(llmesh::config::v1::Provider::OPENAI);
  provider.mutable_provider()->set_base_url("https://api.example.com/v1");
  provider.mutable_provider()->set_api_key_env("EXAMPLE_API_KEY");
  provider.mutable_provider()->add_models()->set_name("gpt");
  adminpb::ApplyProviderResponse applied;
  ASSERT_TRUE(server.stub->ApplyProvider(AdminTestServer::Context().get(), provider, &applied).ok());
  adminpb::ApplyRouteRequest route;
  route.mutable_route()->set_model("chat");
  auto* target = route.mutable_route()->add_targets();
  target->set_provider("openai");
  target->set_model("gpt");
  target->set_priority(1);
  adminpb::ApplyRouteResponse applied_route;
  ASSERT_TRUE(server.stub->ApplyRoute(AdminTestServer::Context().get(), route, &applied_route).ok());
}

TEST(AdminViewsTest, WithoutSourcesSidecarsAndHealthAreEmpty) {
  AdminTestServer server;
  Seed(server);
  adminpb::ListSidecarsResponse sidecars;
  ASSERT_TRUE(server.stub->ListSidecars(AdminTestServer::Context().get(), {}, &sidecars).ok());
  EXPECT_EQ(sidecars.sidecars_size(), 0);
  adminpb::GetHealthResponse health;
  ASSERT_TRUE(server.stub->GetHealth(AdminTestServer::Context().get(), {}, &health).ok());
  EXPECT_EQ(health.routes_size(), 0);
}

TEST(AdminViewsTest, HealthOfAnUnknownRouteIsNotFound) {
  AdminTestServer server;
  adminpb::GetHealthRequest request;
  request.set_route("nope");
  adminpb::GetHealthResponse health;
  grpc::Status status = server.stub->GetHealth(AdminTestServer::Context().get(), request, &health);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST(AdminViewsTest, SidecarsComeFromTheDirectoryWithTheRequestedStatus) {
  FakeSidecarDirectory directory;
  AdminTestServer server(&directory, nullptr);
  adminpb::ListSidecarsRequest request;
  request.set_status(adminpb::NACKED);
  adminpb::ListSidecarsResponse sidecars;
  ASSERT_TRUE(server.stub->ListSidecars(AdminTestServer::Context().get(), request, &sidecars).ok());
  EXPECT_EQ(sidecars.sidecars_size(), 0);
  request.set_status(adminpb::SYNCED);
  ASSERT_TRUE(server.stub->ListSidecars(AdminTestServer::Context().get(), request, &sidecars).ok());
  ASSERT_EQ(sidecars.sidecars_size(), 1);
  EXPECT_EQ(sidecars.sidecars(0).node().id(), "pod-a");
}

TEST(AdminViewsTest, HealthJoinsRouteTargetsFiguresWeightsAndOverrides) {
  FakeHealthSource source;
  AdminTestServer server(nullptr, &source);
  Seed(server);
  adminpb::SetWeightOverrideRequest drain;
  drain.set_route("chat");
  drain.set_provider("openai");
  drain.set_model("gpt");
  drain.set_drain(true);
  drain.mutable_ttl()->set_seconds(60);
  adminpb::WeightOverride set;
  ASSERT_TRUE(server.stub->SetWeightOverride(AdminTestServer::Context().get(), drain, &set).ok());

  adminpb::GetHealthResponse health;
  ASSERT_TRUE(server.stub->GetHealth(AdminTestServer::Context().get(), {}, &health).ok());
  EXPECT_EQ(health.window().seconds(), 60);
  EXPECT_EQ(health.reporting_sidecars(), 3u);
  ASSERT_EQ(health.routes_size(), 1);
  EXPECT_EQ(health.routes(0).route(), "chat");
  ASSERT_EQ(health.routes(0).targets_size(), 1);
  const adminpb::TargetHealth& target = health.routes(0).targets(0);
  EXPECT_EQ(target.provider(), "openai");
  EXPECT_EQ(target.model(), "gpt");
  EXPECT_EQ(target.priority(), 1u);
  EXPECT_EQ(target.attempts(), 100u);
  EXPECT_EQ(target.successes(), 90u);
  EXPECT_EQ(target.latency_p95().seconds(), 1);
  EXPECT_EQ(target.latency_p95().nanos(), 500'000'000);
  EXPECT_EQ(target.error_rate(), 0.1);
  EXPECT_FALSE(target.slo_met());
  EXPECT_EQ(target.weight(), 200u);
  EXPECT_EQ(target.weight_basis(), llmesh::discovery::v1::PROBE_FLOOR);
  EXPECT_EQ(target.weight_reason(), "error rate 10% > 5%");
  EXPECT_TRUE(target.weight_override().drain());
}

}  // namespace
}  // namespace llmesh::control
