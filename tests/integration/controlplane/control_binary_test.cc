// llmesh-control as a process: bootstrap import, the admin API over gRPC, route changes pushed
// to discovery streams, the HTTP status listener, and a SIGKILL restart on the same store.
#include <csignal>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/beast/http/verb.hpp>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/security/credentials.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "llmesh/admin/v1/admin.grpc.pb.h"
#include "llmesh/discovery/v1/discovery.grpc.pb.h"
#include "llmesh/telemetry/v1/telemetry.grpc.pb.h"
#include "tests/fakes/control_plane_process.h"
#include "tests/fakes/process_harness.h"
#include "tests/fakes/test_http_client.h"

namespace llmesh::testing {
namespace {

namespace adminpb = llmesh::admin::v1;
namespace discoverypb = llmesh::discovery::v1;
namespace telemetrypb = llmesh::telemetry::v1;
using std::chrono::milliseconds;

constexpr milliseconds kStartTimeout{20000};

constexpr const char* kBootstrap = kTwoProviderBootstrap;

class ControlBinaryTest : public ::testing::Test {
 protected:
  std::unique_ptr<ControlPlaneProcess> Start() {
    return ControlPlaneProcess::Start(temp_, kBootstrap, {"--log-level", "debug"});
  }

  static std::unique_ptr<grpc::ClientContext> Context() { return ControlPlaneProcess::Context(); }

  static adminpb::ListRoutesResponse ListRoutes(ControlPlaneProcess& control) {
    adminpb::ListRoutesResponse routes;
    grpc::Status status = control.admin().ListRoutes(Context().get(), {}, &routes);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return routes;
  }

  // Lists services through server reflection (grpc.reflection.v1alpha, as generic clients such
  // as grpcurl use it), without its generated stubs: the request is hand-encoded
  // (list_services = "*", field 7) and the raw response returned; service names appear in it
  // verbatim.
  static std::string ReflectionListServices(uint16_t port) {
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                       grpc::InsecureChannelCredentials());
    grpc::GenericStub stub(channel);
    grpc::CompletionQueue cq;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call = stub.PrepareCall(
        &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
    void* tag = nullptr;
    bool ok = false;
    auto step = [&](intptr_t expected) {
      const bool got = cq.Next(&tag, &ok);
      EXPECT_TRUE(got && ok && reinterpret_cast<intptr_t>(tag) == expected);
      return got && ok;
    };
    call->StartCall(reinterpret_cast<void*>(1));
    if (!step(1)) return "";
    const std::string request("\x3a\x01*", 3);
    grpc::Slice slice(request);
    grpc::ByteBuffer out(&slice, 1);
    call->Write(out, reinterpret_cast<void*>(2));
    if (!step(2)) return "";
    grpc::ByteBuffer in;
    call->Read(&in, reinterpret_cast<void*>(3));
    if (!step(3)) return "";
    call->WritesDone(reinterpret_cast<void*>(4));
    step(4);
    grpc::Status status;
    call->Finish(&status, reinterpret_cast<void*>(5));
    step(5);
    std::vector<grpc::Slice> slices;
    if (!in.Dump(&slices).ok()) return "";
    std::string response;
    for (const grpc::Slice& s : slices) response.append(reinterpret_cast<const char*>(s.begin()), s.size());
    return response;
  }

  ScopedTempDir temp_;
};

TEST_F(ControlBinaryTest, ServesBootstrappedRoutesHealthAndParseableMetrics) {
  std::unique_ptr<ControlPlaneProcess> control = Start();
  ASSERT_NE(control, nullptr);

  const adminpb::ListRoutesResponse routes = ListRoutes(*control);
  ASSERT_EQ(routes.routes_size(), 1);
  EXPECT_EQ(routes.routes(0).route().model(), "chat");
  ASSERT_EQ(routes.routes(0).route().targets_size(), 2);
  EXPECT_EQ(routes.routes(0).route().targets(1).provider(), "secondary");
  EXPECT_EQ(routes.route_configuration_version().size(), 32u);

  EXPECT_THAT(ReflectionListServices(control->grpc_port()),
              ::testing::HasSubstr("llmesh.admin.v1.AdminService"));

  adminpb::ListRoutesResponse refused;
  grpc::ClientContext no_token;
  EXPECT_EQ(control->admin().ListRoutes(&no_token, {}, &refused).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  HttpResponse healthz = Request(control->http_port(), boost::beast::http::verb::get, "/healthz");
  EXPECT_EQ(healthz.status, 200) << healthz.error;
  HttpResponse readyz = Request(control->http_port(), boost::beast::http::verb::get, "/readyz");
  EXPECT_EQ(readyz.status, 200) << readyz.error;

  HttpResponse metrics = Request(control->http_port(), boost::beast::http::verb::get, "/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.error;
  EXPECT_EQ(metrics.Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(metrics.body,
              ::testing::HasSubstr(absl::StrCat(
                  "llmesh_control_route_configuration_version_info{version=\"",
                  routes.route_configuration_version(), "\"} 1")));
  EXPECT_THAT(metrics.body, ::testing::HasSubstr(
                                "llmesh_control_admin_requests_total{method=\"ListRoutes\","
                                "code=\"UNAUTHENTICATED\"} 1"));
  const std::string file = temp_.WriteFile("metrics.txt", metrics.body);
  absl::StatusOr<std::unique_ptr<ChildProcess>> promtool =
      ChildProcess::Start("/bin/sh", {"-c", "promtool check metrics < " + file});
  ASSERT_TRUE(promtool.ok()) << promtool.status();
  std::optional<int> exit_code = (*promtool)->WaitExit(milliseconds(30000));
  ASSERT_TRUE(exit_code.has_value());
  EXPECT_EQ(*exit_code, 0) << (*promtool)->Output() << "\n" << metrics.body;

  control->process().Signal(SIGTERM);
  EXPECT_EQ(control->process().WaitExit(milliseconds(15000)), std::optional<int>(0))
      << control->process().Output();
}

// Three discovery streams stand in for sidecars: each gets the bootstrapped routes, ACKs them,
// and gets (and ACKs) the route change an operator applies; ListSidecars then shows all SYNCED.
TEST_F(ControlBinaryTest, AppliedRouteChangeIsPushedToEverySidecarStream) {
  std::unique_ptr<ControlPlaneProcess> control = Start();
  ASSERT_NE(control, nullptr);
  constexpr std::string_view kRoutes = "llmesh.discovery.v1.RouteConfiguration";
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", control->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  auto discovery = discoverypb::DiscoveryService::NewStub(channel);
  struct Sidecar {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReaderWriter<discoverypb::DiscoveryRequest, discoverypb::DiscoveryResponse>> stream;
  };
  std::vector<std::unique_ptr<Sidecar>> sidecars;
  const auto ack = [&](Sidecar& sidecar, const discoverypb::DiscoveryResponse& push) {
    discoverypb::DiscoveryRequest request;
    request.set_type_url(std::string(kRoutes));
    request.set_version_info(push.version_info());
    request.set_response_nonce(push.nonce());
    return sidecar.stream->Write(request);
  };
  const std::string bootstrapped = ListRoutes(*control).route_configuration_version();
  for (int i = 0; i < 3; ++i) {
    auto sidecar = std::make_unique<Sidecar>();
    sidecar->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    sidecar->stream = discovery->StreamResources(&sidecar->context);
    discoverypb::DiscoveryRequest hello;
    hello.mutable_node()->set_id(absl::StrCat("sidecar-", i));
    hello.set_type_url(std::string(kRoutes));
    ASSERT_TRUE(sidecar->stream->Write(hello));
    discoverypb::DiscoveryResponse push;
    ASSERT_TRUE(sidecar->stream->Read(&push));
    EXPECT_EQ(push.version_info(), bootstrapped);
    ASSERT_EQ(push.resources_size(), 1);
    EXPECT_EQ(push.resources(0).route_configuration().routes_size(), 1);
    ASSERT_TRUE(ack(*sidecar, push));
    sidecars.push_back(std::move(sidecar));
  }

  adminpb::ApplyRouteRequest apply;
  apply.mutable_route()->set_model("embed");
  auto* target = apply.mutable_route()->add_targets();
  target->set_provider("secondary");
  target->set_model("gpt-b");
  adminpb::ApplyRouteResponse applied;
  grpc::Status status = control->admin().ApplyRoute(Context().get(), apply, &applied);
  ASSERT_TRUE(status.ok()) << status.error_message();
  for (auto& sidecar : sidecars) {
    discoverypb::DiscoveryResponse push;
    ASSERT_TRUE(sidecar->stream->Read(&push));
    EXPECT_EQ(push.version_info(), applied.route_configuration_version());
    ASSERT_EQ(push.resources_size(), 1);
    EXPECT_EQ(push.resources(0).route_configuration().routes_size(), 2);
    ASSERT_TRUE(ack(*sidecar, push));
  }

  // The ACKs travel on their own streams: poll the directory until all three are recorded.
  adminpb::ListSidecarsResponse listed;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int round = 0; round < 1000 && std::chrono::steady_clock::now() < deadline; ++round) {
    listed.Clear();
    ASSERT_TRUE(control->admin().ListSidecars(Context().get(), {}, &listed).ok());
    int synced = 0;
    for (const adminpb::Sidecar& sidecar : listed.sidecars()) {
      for (const adminpb::SidecarTypeState& type : sidecar.types()) {
        if (type.type_url() == kRoutes && type.applied_version() == applied.route_configuration_version()) ++synced;
      }
    }
    if (synced == 3) break;
    std::this_thread::yield();
  }
  ASSERT_EQ(listed.sidecars_size(), 3);
  for (const adminpb::Sidecar& sidecar : listed.sidecars()) {
    EXPECT_EQ(sidecar.status(), adminpb::SYNCED) << sidecar.node().id();
    EXPECT_TRUE(sidecar.connected());
  }
  for (auto& sidecar : sidecars) sidecar->stream->WritesDone();
  for (auto& sidecar : sidecars) sidecar->context.TryCancel();
}

// A sidecar's telemetry report is acknowledged with the report interval and shows in GetHealth.
TEST_F(ControlBinaryTest, TelemetryReportsAreAbsorbedAndShownInHealth) {
  std::unique_ptr<ControlPlaneProcess> control = Start();
  ASSERT_NE(control, nullptr);
  auto telemetry = telemetrypb::TelemetryService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", control->grpc_port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto stream = telemetry->Report(&context);
  telemetrypb::TelemetryReport report;
  report.mutable_node()->set_id("sidecar-0");
  report.set_sequence(1);
  report.mutable_interval_start()->set_seconds(1'800'000'000);
  report.mutable_interval_end()->set_seconds(1'800'000'005);
  auto* target = report.add_targets();
  target->set_provider("primary");
  target->set_model("gpt-a");
  target->set_attempts(20);
  target->set_successes(18);
  target->mutable_errors()->set_server_error(2);
  target->set_cost_nano_usd(36'000'000);
  ASSERT_TRUE(stream->Write(report));
  telemetrypb::TelemetryAck ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.sequence(), 1u);
  EXPECT_EQ(ack.report_interval().seconds(), 5);

  adminpb::GetHealthResponse health;
  ASSERT_TRUE(control->admin().GetHealth(Context().get(), {}, &health).ok());
  EXPECT_EQ(health.reporting_sidecars(), 1u);
  ASSERT_EQ(health.routes_size(), 1);
  ASSERT_EQ(health.routes(0).targets_size(), 2);
  const adminpb::TargetHealth& primary = health.routes(0).targets(0);
  EXPECT_EQ(primary.provider(), "primary");
  EXPECT_EQ(primary.attempts(), 20u);
  EXPECT_EQ(primary.successes(), 18u);
  EXPECT_DOUBLE_EQ(primary.error_rate(), 0.1);
  EXPECT_DOUBLE_EQ(primary.cost_per_success_usd(), 0.002);
  EXPECT_EQ(health.routes(0).targets(1).attempts(), 0u);
  stream->WritesDone();
  context.TryCancel();
}

TEST_F(ControlBinaryTest, RestartAfterSigkillServesTheSameVersionWithAcknowledgedChanges) {
  std::unique_ptr<ControlPlaneProcess> first = Start();
  ASSERT_NE(first, nullptr);
  const std::string bootstrapped = ListRoutes(*first).route_configuration_version();

  // An acknowledged change must survive the kill, and the bootstrap must not be re-imported.
  adminpb::ApplyRouteRequest apply;
  apply.mutable_route()->set_model("embed");
  auto* target = apply.mutable_route()->add_targets();
  target->set_provider("primary");
  target->set_model("gpt-a");
  adminpb::ApplyRouteResponse applied;
  grpc::Status status = first->admin().ApplyRoute(Context().get(), apply, &applied);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_NE(applied.route_configuration_version(), bootstrapped);

  first->process().Signal(SIGKILL);
  ASSERT_EQ(first->process().WaitExit(milliseconds(15000)), std::optional<int>(128 + SIGKILL));

  std::unique_ptr<ControlPlaneProcess> second = Start();
  ASSERT_NE(second, nullptr);
  const adminpb::ListRoutesResponse routes = ListRoutes(*second);
  EXPECT_EQ(routes.route_configuration_version(), applied.route_configuration_version());
  ASSERT_EQ(routes.routes_size(), 2);
  EXPECT_EQ(routes.routes(1).route().model(), "embed");
  EXPECT_EQ(routes.routes(1).etag(), applied.route().etag());
}

TEST_F(ControlBinaryTest, WithoutATokenItWarnsAndRefusesEveryAdminCall) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::Start(
      BinaryPath("llmesh-control"),
      {"--store", absl::StrCat("sqlite:", temp_.path(), "/store.db"), "--grpc-listen",
       "127.0.0.1:0", "--http-listen", "127.0.0.1:0"});
  ASSERT_TRUE(process.ok()) << process.status();
  absl::StatusOr<uint16_t> grpc_port = (*process)->WaitForListening("grpc", kStartTimeout);
  ASSERT_TRUE(grpc_port.ok()) << (*process)->Output();
  EXPECT_TRUE((*process)->WaitForLine(
      [](std::string_view line) {
        return line.find(R"("level":"warn","msg":"no admin token configured)") != line.npos;
      },
      milliseconds(1000)));
  auto stub = adminpb::AdminService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", *grpc_port), grpc::InsecureChannelCredentials()));
  adminpb::ListRoutesResponse routes;
  EXPECT_EQ(stub->ListRoutes(Context().get(), {}, &routes).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ControlBinaryTest, InvalidBootstrapFileStopsTheStartWithItsFieldPath) {
  const std::string bad = temp_.WriteFile("bad.yaml", R"(
providers:
  - name: primary
    kind: openai
    base_url: http://127.0.0.1:9/v1
    api_key_env: PRIMARY_API_KEY
    models:
      - name: gpt-a
routes:
  - model: chat
    targets:
      - provider: opnai
        model: gpt-a
)");
  absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::Start(
      BinaryPath("llmesh-control"),
      {"--store", absl::StrCat("sqlite:", temp_.path(), "/store.db"), "--grpc-listen",
       "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--bootstrap", bad});
  ASSERT_TRUE(process.ok()) << process.status();
  EXPECT_EQ((*process)->WaitExit(milliseconds(15000)), std::optional<int>(1));
  EXPECT_THAT((*process)->Output(),
              ::testing::HasSubstr(R"(routes[0].targets[0].provider: unknown provider \"opnai\")"));
}

}  // namespace
}  // namespace llmesh::testing
