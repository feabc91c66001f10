// AdminService over a real store through an in-process gRPC server: the round trips and the
// error statuses of admin.proto.
#include "controlplane/admin/admin_service.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/unit/controlplane/admin/admin_test_server.h"

namespace llmesh::control {
namespace {

namespace adminpb = llmesh::admin::v1;
using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_admin::AdminTestServer;
using Provider = llmesh::config::v1::Provider;
using Route = llmesh::config::v1::Route;

Provider MakeProvider(std::string name, std::string model) {
  Provider p;
  p.set_name(std::move(name));
  p.set_kind(Provider::OPENAI);
  p.set_base_url("https://api.example.com/v1");
  p.set_api_key_env("EXAMPLE_API_KEY");
  p.add_models()->set_name(std::move(model));
  return p;
}

Route MakeRoute(std::string model, std::string provider, std::string target_model) {
  Route r;
  r.set_model(std::move(model));
  auto* t = r.add_targets();
  t->set_provider(std::move(provider));
  t->set_model(std::move(target_model));
  return r;
}

class AdminServiceTest : public ::testing::Test {
 protected:
  adminpb::ApplyProviderResponse ApplyProviderOrDie(const Provider& provider) {
    adminpb::ApplyProviderRequest request;
    *request.mutable_provider() = provider;
    adminpb::ApplyProviderResponse response;
    grpc::Status status = server_.stub->ApplyProvider(AdminTestServer::Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }
  adminpb::ApplyRouteResponse ApplyRouteOrDie(const Route& route) {
    adminpb::ApplyRouteRequest request;
    *request.mutable_route() = route;
    adminpb::ApplyRouteResponse response;
    grpc::Status status = server_.stub->ApplyRoute(AdminTestServer::Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }
  adminpb::ListRoutesResponse ListRoutes() {
    adminpb::ListRoutesResponse response;
    grpc::Status status = server_.stub->ListRoutes(AdminTestServer::Context().get(), {}, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  AdminTestServer server_;
};

TEST_F(AdminServiceTest, AppliedProviderAndRouteCanBeListedFetchedAndDeleted) {
  const adminpb::ApplyProviderResponse provider = ApplyProviderOrDie(MakeProvider("openai", "gpt"));
  EXPECT_TRUE(provider.changed());
  EXPECT_FALSE(provider.provider().etag().empty());
  const adminpb::ApplyRouteResponse route = ApplyRouteOrDie(MakeRoute("chat", "openai", "gpt"));
  EXPECT_TRUE(route.changed());
  EXPECT_NE(route.route_configuration_version(), provider.route_configuration_version());
  EXPECT_THAT(server_.pushed_versions, ElementsAre(provider.route_configuration_version(),
                                                   route.route_configuration_version()));

  adminpb::ListProvidersResponse providers;
  ASSERT_TRUE(server_.stub->ListProviders(AdminTestServer::Context().get(), {}, &providers).ok());
  ASSERT_EQ(providers.providers_size(), 1);
  EXPECT_TRUE(MessageDifferencer::Equals(providers.providers(0).provider(), MakeProvider("openai", "gpt")));
  EXPECT_EQ(providers.route_configuration_version(), route.route_configuration_version());

  adminpb::GetRouteRequest get;
  get.set_name("chat");
  adminpb::StoredRoute stored;
  ASSERT_TRUE(server_.stub->GetRoute(AdminTestServer::Context().get(), get, &stored).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(stored.route(), MakeRoute("chat", "openai", "gpt")));
  EXPECT_EQ(stored.etag(), route.route().etag());
  EXPECT_EQ(stored.update_time().seconds(), 1'800'000'000);

  // Applying identical content changes nothing and pushes nothing.
  const adminpb::ApplyRouteResponse again = ApplyRouteOrDie(MakeRoute("chat", "openai", "gpt"));
  EXPECT_FALSE(again.changed());
  EXPECT_EQ(again.route().etag(), route.route().etag());
  EXPECT_EQ(server_.pushed_versions.size(), 2u);

  adminpb::DeleteRouteRequest del;
  del.set_name("chat");
  adminpb::DeleteResponse deleted;
  ASSERT_TRUE(server_.stub->DeleteRoute(AdminTestServer::Context().get(), del, &deleted).ok());
  EXPECT_EQ(deleted.route_configuration_version(), provider.route_configuration_version());
  EXPECT_EQ(ListRoutes().routes_size(), 0);
  grpc::Status missing = server_.stub->GetRoute(AdminTestServer::Context().get(), get, &stored);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(missing.error_message(), "route \"chat\" not found");
}

TEST_F(AdminServiceTest, InvalidRouteIsRefusedWithItsFieldPathAndNothingIsStored) {
  ApplyProviderOrDie(MakeProvider("openai", "gpt"));
  adminpb::ApplyRouteRequest request;
  *request.mutable_route() = MakeRoute("chat", "opnai", "gpt");
  adminpb::ApplyRouteResponse response;
  grpc::Status status = server_.stub->ApplyRoute(AdminTestServer::Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("routes[0].targets[0].provider: unknown provider \"opnai\""));
  EXPECT_EQ(ListRoutes().routes_size(), 0);
  EXPECT_EQ(server_.pushed_versions.size(), 1u);  // the provider only
}

TEST_F(AdminServiceTest, StaleEtagIsRefusedWithAborted) {
  ApplyProviderOrDie(MakeProvider("openai", "gpt"));
  ApplyProviderOrDie(MakeProvider("other", "gpt"));
  const std::string first_etag = ApplyRouteOrDie(MakeRoute("chat", "openai", "gpt")).route().etag();
  ApplyRouteOrDie(MakeRoute("chat", "other", "gpt"));  // someone else's change

  adminpb::ApplyRouteRequest request;
  *request.mutable_route() = MakeRoute("chat", "openai", "gpt");
  request.set_etag(first_etag);
  adminpb::ApplyRouteResponse response;
  grpc::Status status = server_.stub->ApplyRoute(AdminTestServer::Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(status.error_message(), HasSubstr("etag mismatch"));
  ASSERT_EQ(ListRoutes().routes_size(), 1);
  EXPECT_EQ(ListRoutes().routes(0).route().targets(0).provider(), "other");
}

TEST_F(AdminServiceTest, MissingOrWrongTokenIsRefusedBeforeAnythingElse) {
  adminpb::ListRoutesResponse response;
  grpc::Status missing = server_.stub->ListRoutes(AdminTestServer::Context(nullptr).get(), {}, &response);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status wrong = server_.stub->ListRoutes(AdminTestServer::Context("guess").get(), {}, &response);
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(wrong.error_message(), "wrong admin token");

  // Even an invalid write is refused as unauthenticated, and stores nothing.
  adminpb::ApplyProviderRequest apply;
  *apply.mutable_provider() = MakeProvider("openai", "gpt");
  adminpb::ApplyProviderResponse applied;
  grpc::Status write = server_.stub->ApplyProvider(AdminTestServer::Context("guess").get(), apply, &applied);
  EXPECT_EQ(write.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(server_.pushed_versions.empty());
}

TEST(AdminServiceNoTokenTest, WithoutAConfiguredTokenEveryCallIsRefused) {
  AdminTestServer server(nullptr, nullptr, /*token=*/"");
  adminpb::ListRoutesResponse response;
  grpc::Status empty_bearer = server.stub->ListRoutes(AdminTestServer::Context("").get(), {}, &response);
  EXPECT_EQ(empty_bearer.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(empty_bearer.error_message(), HasSubstr("--admin-token-env"));
}

TEST_F(AdminServiceTest, ValidateOnlyReportsTheVersionButStoresNothing) {
  ApplyProviderOrDie(MakeProvider("openai", "gpt"));
  adminpb::ApplyRouteRequest request;
  *request.mutable_route() = MakeRoute("chat", "openai", "gpt");
  request.set_validate_only(true);
  adminpb::ApplyRouteResponse dry;
  ASSERT_TRUE(server_.stub->ApplyRoute(AdminTestServer::Context().get(), request, &dry).ok());
  EXPECT_TRUE(dry.changed());
  EXPECT_EQ(ListRoutes().routes_size(), 0);
  EXPECT_EQ(server_.pushed_versions.size(), 1u);

  // The real write produces the version the dry run announced.
  EXPECT_EQ(ApplyRouteOrDie(MakeRoute("chat", "openai", "gpt")).route_configuration_version(),
            dry.route_configuration_version());

  adminpb::DeleteProviderRequest del;
  del.set_name("openai");
  adminpb::DeleteResponse deleted;
  grpc::Status in_use = server_.stub->DeleteProvider(AdminTestServer::Context().get(), del, &deleted);
  EXPECT_EQ(in_use.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(in_use.error_message(), HasSubstr("routes[0].targets[0]"));
}

TEST_F(AdminServiceTest, OverridesAreSetListedExpireAndClear) {
  ApplyProviderOrDie(MakeProvider("openai", "gpt"));
  ApplyRouteOrDie(MakeRoute("chat", "openai", "gpt"));

  adminpb::SetWeightOverrideRequest drain;
  drain.set_route("chat");
  drain.set_provider("openai");
  drain.set_model("gpt");
  drain.set_drain(true);
  drain.mutable_ttl()->set_seconds(600);
  drain.set_comment("INC-1");
  adminpb::WeightOverride set;
  ASSERT_TRUE(server_.stub->SetWeightOverride(AdminTestServer::Context().get(), drain, &set).ok());
  EXPECT_TRUE(set.drain());
  EXPECT_EQ(set.expire_time().seconds(), 1'800'000'600);
  EXPECT_EQ(set.comment(), "INC-1");
  EXPECT_EQ(server_.override_changes, 1);

  adminpb::ListWeightOverridesResponse listed;
  ASSERT_TRUE(server_.stub->ListWeightOverrides(AdminTestServer::Context().get(), {}, &listed).ok());
  ASSERT_EQ(listed.overrides_size(), 1);
  EXPECT_EQ(listed.overrides(0).provider(), "openai");

  server_.now += absl::Seconds(600);
  listed.Clear();
  ASSERT_TRUE(server_.stub->ListWeightOverrides(AdminTestServer::Context().get(), {}, &listed).ok());
  EXPECT_EQ(listed.overrides_size(), 0);

  adminpb::SetWeightOverrideRequest pin = drain;
  pin.set_weight(2500);
  adminpb::WeightOverride pinned;
  ASSERT_TRUE(server_.stub->SetWeightOverride(AdminTestServer::Context().get(), pin, &pinned).ok());
  EXPECT_EQ(pinned.weight(), 2500u);
  adminpb::ClearWeightOverrideRequest clear;
  clear.set_route("chat");
  clear.set_provider("openai");
  clear.set_model("gpt");
  adminpb::ClearWeightOverrideResponse cleared;
  ASSERT_TRUE(server_.stub->ClearWeightOverride(AdminTestServer::Context().get(), clear, &cleared).ok());
  grpc::Status again = server_.stub->ClearWeightOverride(AdminTestServer::Context().get(), clear, &cleared);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(AdminServiceTest, OverrideWithoutTtlOrActionIsRefusedWithEveryFieldPath) {
  ApplyProviderOrDie(MakeProvider("openai", "gpt"));
  ApplyRouteOrDie(MakeRoute("chat", "openai", "gpt"));
  adminpb::SetWeightOverrideRequest request;
  request.set_route("chat");
  request.set_provider("openai");
  adminpb::WeightOverride response;
  grpc::Status status = server_.stub->SetWeightOverride(AdminTestServer::Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "model: required\n"
            "action: exactly one of weight or drain is required\n"
            "ttl: required (overrides always expire)");

  request.set_model("gpt");
  request.set_weight(10001);
  request.mutable_ttl()->set_seconds(31 * 24 * 3600);
  status = server_.stub->SetWeightOverride(AdminTestServer::Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "weight: must be 1 to 10000 basis points, got 10001\n"
            "ttl: must be at most 720h (30 days), got 744h");

  // A target the route does not have is the store's INVALID_ARGUMENT.
  request.set_model("other");
  request.set_weight(100);
  request.mutable_ttl()->set_seconds(60);
  status = server_.stub->SetWeightOverride(AdminTestServer::Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(server_.override_changes, 0);
}

}  // namespace
}  // namespace llmesh::control
