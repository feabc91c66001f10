// The control-plane protos as the docs describe them: service and method names, streaming
// shapes, resource type names, and messages that survive a serialise/parse round trip. One
// in-process gRPC call proves the generated stubs compile, link and talk to each other.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "llmesh/admin/v1/admin.grpc.pb.h"
#include "llmesh/admin/v1/admin.pb.h"
#include "llmesh/discovery/v1/discovery.grpc.pb.h"
#include "llmesh/discovery/v1/discovery.pb.h"
#include "llmesh/telemetry/v1/telemetry.grpc.pb.h"
#include "llmesh/telemetry/v1/telemetry.pb.h"

namespace llmesh::control {
namespace {

namespace admin = ::llmesh::admin::v1;
namespace config = ::llmesh::config::v1;
namespace discovery = ::llmesh::discovery::v1;
namespace telemetry = ::llmesh::telemetry::v1;
using ::google::protobuf::DescriptorPool;
using ::google::protobuf::MethodDescriptor;
using ::google::protobuf::ServiceDescriptor;
using ::google::protobuf::util::MessageDifferencer;

const ServiceDescriptor& FindService(const std::string& full_name) {
  const ServiceDescriptor* service = DescriptorPool::generated_pool()->FindServiceByName(full_name);
  EXPECT_NE(service, nullptr) << full_name;
  return *service;
}

std::vector<std::string> MethodNames(const ServiceDescriptor& service) {
  std::vector<std::string> names;
  for (int i = 0; i < service.method_count(); ++i) names.push_back(service.method(i)->name());
  return names;
}

TEST(DiscoveryProtoTest, ServiceIsOneBidirectionalStream) {
  EXPECT_EQ(std::string(discovery::DiscoveryService::service_full_name()),
            "llmesh.discovery.v1.DiscoveryService");
  const ServiceDescriptor& service = FindService("llmesh.discovery.v1.DiscoveryService");
  ASSERT_EQ(MethodNames(service), std::vector<std::string>{"StreamResources"});
  const MethodDescriptor& method = *service.method(0);
  EXPECT_TRUE(method.client_streaming());
  EXPECT_TRUE(method.server_streaming());
  EXPECT_EQ(method.input_type()->full_name(), "llmesh.discovery.v1.DiscoveryRequest");
  EXPECT_EQ(method.output_type()->full_name(), "llmesh.discovery.v1.DiscoveryResponse");
}

TEST(DiscoveryProtoTest, TypeUrlsAreTheResourceMessageNames) {
  EXPECT_EQ(discovery::RouteConfiguration::descriptor()->full_name(),
            "llmesh.discovery.v1.RouteConfiguration");
  EXPECT_EQ(discovery::WeightAssignment::descriptor()->full_name(),
            "llmesh.discovery.v1.WeightAssignment");
}

TEST(DiscoveryProtoTest, ResponseWithRouteConfigurationRoundTrips) {
  discovery::DiscoveryResponse response;
  response.set_version_info("0123456789abcdef0123456789abcdef");
  response.set_type_url("llmesh.discovery.v1.RouteConfiguration");
  response.set_nonce("7");
  discovery::RouteConfiguration* routes =
      response.add_resources()->mutable_route_configuration();
  config::Provider* provider = routes->add_providers();
  provider->set_name("openai");
  provider->set_kind(config::Provider::OPENAI);
  provider->set_base_url("https://api.openai.com/v1");
  provider->set_api_key_env("OPENAI_API_KEY");
  config::Model* model = provider->add_models();
  model->set_name("gpt-4o-mini");
  model->set_input_usd_per_mtok(0.15);
  config::Route* route = routes->add_routes();
  route->set_model("chat");
  route->set_strategy(config::Route::WEIGHTED);
  config::Target* target = route->add_targets();
  target->set_provider("openai");
  target->set_model("gpt-4o-mini");
  target->set_weight(3);
  route->mutable_timeouts()->mutable_first_byte()->set_seconds(2);

  std::string wire;
  ASSERT_TRUE(response.SerializeToString(&wire));
  discovery::DiscoveryResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));

  EXPECT_TRUE(MessageDifferencer::Equals(parsed, response));
  ASSERT_EQ(parsed.resources_size(), 1);
  EXPECT_EQ(parsed.resources(0).kind_case(), discovery::Resource::kRouteConfiguration);
  EXPECT_EQ(parsed.resources(0).route_configuration().routes(0).targets(0).weight(), 3u);
}

TEST(DiscoveryProtoTest, ResponseWithWeightAssignmentRoundTrips) {
  discovery::DiscoveryResponse response;
  response.set_type_url("llmesh.discovery.v1.WeightAssignment");
  discovery::WeightAssignment* weights = response.add_resources()->mutable_weight_assignment();
  weights->mutable_computed_at()->set_seconds(1795000000);
  weights->mutable_ttl()->set_seconds(60);
  discovery::RouteWeights* route = weights->add_routes();
  route->set_route("chat");
  discovery::TargetWeight* target = route->add_targets();
  target->set_provider("openai");
  target->set_model("gpt-4o-mini");
  target->set_weight(200);
  target->set_basis(discovery::PROBE_FLOOR);
  target->set_reason("probe floor: error rate 12.0% > SLO 5.0%");

  discovery::DiscoveryResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(response.SerializeAsString()));

  EXPECT_TRUE(MessageDifferencer::Equals(parsed, response));
  EXPECT_EQ(parsed.resources(0).kind_case(), discovery::Resource::kWeightAssignment);
}

TEST(DiscoveryProtoTest, NackCarriesLastGoodVersionAndErrorDetail) {
  discovery::DiscoveryRequest nack;
  nack.set_type_url("llmesh.discovery.v1.RouteConfiguration");
  nack.set_version_info("last-good");
  nack.set_response_nonce("8");
  nack.mutable_error_detail()->set_code(3);
  nack.mutable_error_detail()->add_field_violations(
      "routes[0].targets[0].provider: unknown provider \"opnai\"");

  discovery::DiscoveryRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(nack.SerializeAsString()));

  EXPECT_TRUE(MessageDifferencer::Equals(parsed, nack));
  EXPECT_TRUE(parsed.has_error_detail());
  EXPECT_FALSE(parsed.has_node());
}

TEST(TelemetryProtoTest, ServiceIsOneBidirectionalStream) {
  const ServiceDescriptor& service = FindService("llmesh.telemetry.v1.TelemetryService");
  ASSERT_EQ(MethodNames(service), std::vector<std::string>{"Report"});
  EXPECT_TRUE(service.method(0)->client_streaming());
  EXPECT_TRUE(service.method(0)->server_streaming());
  EXPECT_EQ(service.method(0)->input_type()->full_name(), "llmesh.telemetry.v1.TelemetryReport");
  EXPECT_EQ(service.method(0)->output_type()->full_name(), "llmesh.telemetry.v1.TelemetryAck");
}

// One field per FailureKind, in enum order, named by FailureKindName (proxy/provider/failure.h).
TEST(TelemetryProtoTest, ErrorCountsHasOneFieldPerFailureKind) {
  const std::vector<std::string> failure_kind_names = {
      "connect",   "reset",           "timeout",        "rate_limited",
      "overloaded", "server_error",   "malformed",      "invalid_request",
      "context_length", "auth",       "model_not_found", "quota"};
  const google::protobuf::Descriptor& errors = *telemetry::ErrorCounts::descriptor();
  ASSERT_EQ(errors.field_count(), static_cast<int>(failure_kind_names.size()));
  for (int i = 0; i < errors.field_count(); ++i) {
    EXPECT_EQ(errors.field(i)->name(), failure_kind_names[i]);
    EXPECT_EQ(errors.field(i)->number(), i + 1);
  }
}

TEST(TelemetryProtoTest, ReportWithSketchesRoundTrips) {
  telemetry::TelemetryReport report;
  report.mutable_node()->set_id("pod-a");
  report.set_sequence(1);
  report.mutable_interval_start()->set_seconds(1795000000);
  report.mutable_interval_end()->set_seconds(1795000005);
  telemetry::TargetStats* stats = report.add_targets();
  stats->set_provider("openai");
  stats->set_model("gpt-4o-mini");
  stats->set_attempts(10);
  stats->set_successes(8);
  stats->mutable_errors()->set_rate_limited(1);
  stats->set_cancelled(1);
  stats->set_cost_nano_usd(15'000);
  stats->mutable_rate_limit()->set_min_remaining_requests(0);
  stats->mutable_latency()->set_relative_accuracy(0.01);
  stats->mutable_latency()->set_count(8);
  telemetry::BucketRun* run = stats->mutable_latency()->add_runs();
  run->set_start(-3);
  run->add_counts(5);
  run->add_counts(3);

  telemetry::TelemetryReport parsed;
  ASSERT_TRUE(parsed.ParseFromString(report.SerializeAsString()));

  EXPECT_TRUE(MessageDifferencer::Equals(parsed, report));
  // Explicit presence: a headroom of zero is told apart from no headroom header.
  EXPECT_TRUE(parsed.targets(0).rate_limit().has_min_remaining_requests());
  EXPECT_FALSE(parsed.targets(0).rate_limit().has_min_remaining_tokens());
}

TEST(AdminProtoTest, ServiceHasTheDocumentedMethods) {
  const ServiceDescriptor& service = FindService("llmesh.admin.v1.AdminService");
  EXPECT_EQ(MethodNames(service),
            (std::vector<std::string>{
                "ListProviders", "GetProvider", "ApplyProvider", "DeleteProvider",
                "ListRoutes", "GetRoute", "ApplyRoute", "DeleteRoute", "ListSidecars",
                "GetHealth", "SetWeightOverride", "ClearWeightOverride",
                "ListWeightOverrides"}));
  for (int i = 0; i < service.method_count(); ++i) {
    EXPECT_FALSE(service.method(i)->client_streaming()) << service.method(i)->name();
    EXPECT_FALSE(service.method(i)->server_streaming()) << service.method(i)->name();
  }
}

// Answers GetProvider for "openai" and NOT_FOUND for any other name.
class FakeAdminService final : public admin::AdminService::Service {
 public:
  grpc::Status GetProvider(grpc::ServerContext* context, const admin::GetProviderRequest* request,
                           admin::StoredProvider* response) override {
    if (request->name() != "openai") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "provider \"" + request->name() + "\"");
    }
    response->mutable_provider()->set_name("openai");
    response->set_etag("e1");
    return grpc::Status::OK;
  }
};

TEST(AdminProtoTest, StubCallsServiceInProcess) {
  FakeAdminService service;
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  std::unique_ptr<admin::AdminService::Stub> stub =
      admin::AdminService::NewStub(server->InProcessChannel(grpc::ChannelArguments()));

  admin::GetProviderRequest request;
  request.set_name("openai");
  admin::StoredProvider found;
  grpc::ClientContext found_context;
  found_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Status status = stub->GetProvider(&found_context, request, &found);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(found.provider().name(), "openai");
  EXPECT_EQ(found.etag(), "e1");

  request.set_name("opnai");
  admin::StoredProvider missing;
  grpc::ClientContext missing_context;
  missing_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  status = stub->GetProvider(&missing_context, request, &missing);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "provider \"opnai\"");

  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

}  // namespace
}  // namespace llmesh::control
