// The discovery service over real gRPC on loopback: three sidecar streams get the current route
// configuration, ACK it, receive every change and ACK it; a NACK shows up in the sidecar list.
// Publishing a change builds no push on the publisher's thread.
// Waits are stream reads (with a call deadline) and registry changes (with a deadline).
#include "controlplane/discovery/discovery_server.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "controlplane/discovery/resource_source.h"
#include "controlplane/discovery/sidecar_registry.h"
#include "llmesh/discovery/v1/discovery.grpc.pb.h"

namespace llmesh::control {
namespace {

namespace admin = ::llmesh::admin::v1;
namespace discovery = ::llmesh::discovery::v1;

constexpr auto kCallTimeout = std::chrono::seconds(30);
const absl::Duration kWait = absl::Seconds(30);

discovery::RouteConfiguration RoutesNamed(const std::string& provider) {
  discovery::RouteConfiguration config;
  config.add_providers()->set_name(provider);
  return config;
}

// One sidecar's end of a discovery stream.
struct FakeSidecar {
  grpc::ClientContext context;
  std::unique_ptr<
      grpc::ClientReaderWriter<discovery::DiscoveryRequest, discovery::DiscoveryResponse>>
      stream;

  FakeSidecar(discovery::DiscoveryService::Stub& stub) {
    context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
    stream = stub.StreamResources(&context);
  }

  bool Subscribe(const std::string& node_id, std::string_view type_url) {
    discovery::DiscoveryRequest request;
    if (!node_id.empty()) request.mutable_node()->set_id(node_id);
    request.set_type_url(std::string(type_url));
    return stream->Write(request);
  }

  bool Ack(const discovery::DiscoveryResponse& push) {
    discovery::DiscoveryRequest request;
    request.set_type_url(push.type_url());
    request.set_version_info(push.version_info());
    request.set_response_nonce(push.nonce());
    return stream->Write(request);
  }

  bool Nack(const discovery::DiscoveryResponse& push, const std::string& last_good) {
    discovery::DiscoveryRequest request;
    request.set_type_url(push.type_url());
    request.set_version_info(last_good);
    request.set_response_nonce(push.nonce());
    request.mutable_error_detail()->set_code(3);
    request.mutable_error_detail()->set_message("1 error in route configuration");
    request.mutable_error_detail()->add_field_violations(
        "providers[0].name: \"broken\" is reserved");
    return stream->Write(request);
  }

  // The next push; fails the test if the stream ends first.
  discovery::DiscoveryResponse Read() {
    discovery::DiscoveryResponse response;
    EXPECT_TRUE(stream->Read(&response));
    return response;
  }
};

class DiscoveryServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                   grpc::InsecureChannelCredentials());
    stub_ = discovery::DiscoveryService::NewStub(channel_);
  }

  void TearDown() override {
    service_.Shutdown();
    server_->Shutdown();
    server_->Wait();
  }

  // Waits until `done` holds for the registry's sidecar list; every wait is for a registry
  // change with a deadline, and the number of rounds is bounded.
  bool WaitForList(const std::function<bool(const admin::ListSidecarsResponse&)>& done) {
    const absl::Time deadline = absl::Now() + kWait;
    for (int round = 0; round < 10000; ++round) {
      const std::uint64_t seen = registry_.generation();
      if (done(registry_.List(admin::ListSidecarsRequest(), source_))) return true;
      if (!registry_.AwaitChange(seen, deadline)) break;
    }
    return done(registry_.List(admin::ListSidecarsRequest(), source_));
  }

  bool WaitUntilAllApplied(const std::string& version, int count) {
    return WaitForList([&](const admin::ListSidecarsResponse& list) {
      if (list.sidecars_size() != count) return false;
      for (const admin::Sidecar& sidecar : list.sidecars()) {
        if (sidecar.status() != admin::SYNCED || sidecar.types_size() != 1 ||
            sidecar.types(0).applied_version() != version) {
          return false;
        }
      }
      return true;
    });
  }

  InMemoryResourceSource source_;
  SidecarRegistry registry_{SystemClock::Get()};
  DiscoveryServer service_{source_, registry_};
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<discovery::DiscoveryService::Stub> stub_;
};

TEST_F(DiscoveryServerTest, ThreeSidecarsFollowEveryChangeAndANackIsListedWithItsReason) {
  const std::string v1 = source_.SetRouteConfiguration(RoutesNamed("openai"));
  std::vector<std::unique_ptr<FakeSidecar>> sidecars;
  for (int i = 0; i < 3; ++i) {
    sidecars.push_back(std::make_unique<FakeSidecar>(*stub_));
    ASSERT_TRUE(sidecars[i]->Subscribe(absl::StrCat("sidecar-", i), kRouteConfigurationTypeUrl));
  }
  for (auto& sidecar : sidecars) {
    const discovery::DiscoveryResponse push = sidecar->Read();
    EXPECT_EQ(push.type_url(), "llmesh.discovery.v1.RouteConfiguration");
    EXPECT_EQ(push.version_info(), v1);
    ASSERT_EQ(push.resources_size(), 1);
    EXPECT_EQ(push.resources(0).route_configuration().providers(0).name(), "openai");
    ASSERT_TRUE(sidecar->Ack(push));
  }
  ASSERT_TRUE(WaitUntilAllApplied(v1, 3));
  EXPECT_EQ(service_.open_streams(), 3u);

  const std::string v2 = source_.SetRouteConfiguration(RoutesNamed("anthropic"));
  for (auto& sidecar : sidecars) {
    const discovery::DiscoveryResponse push = sidecar->Read();
    EXPECT_EQ(push.version_info(), v2);
    EXPECT_EQ(push.resources(0).route_configuration().providers(0).name(), "anthropic");
    ASSERT_TRUE(sidecar->Ack(push));
  }
  ASSERT_TRUE(WaitUntilAllApplied(v2, 3));

  // sidecar-1 refuses v3 and keeps serving v2.
  const std::string v3 = source_.SetRouteConfiguration(RoutesNamed("broken"));
  for (int i = 0; i < 3; ++i) {
    const discovery::DiscoveryResponse push = sidecars[i]->Read();
    EXPECT_EQ(push.version_info(), v3);
    ASSERT_TRUE(i == 1 ? sidecars[i]->Nack(push, v2) : sidecars[i]->Ack(push));
  }
  ASSERT_TRUE(WaitForList([&](const admin::ListSidecarsResponse& list) {
    return list.sidecars_size() == 3 && list.sidecars(0).status() == admin::SYNCED &&
           list.sidecars(1).status() == admin::NACKED && list.sidecars(2).status() == admin::SYNCED;
  }));
  const admin::ListSidecarsResponse list = registry_.List(admin::ListSidecarsRequest(), source_);
  const admin::Sidecar& refused = list.sidecars(1);
  EXPECT_EQ(refused.node().id(), "sidecar-1");
  EXPECT_TRUE(refused.connected());
  EXPECT_TRUE(absl::StartsWith(refused.peer(), "127.0.0.1:")) << refused.peer();
  ASSERT_EQ(refused.types_size(), 1);
  EXPECT_EQ(refused.types(0).status(), admin::NACKED);
  EXPECT_EQ(refused.types(0).applied_version(), v2);
  EXPECT_EQ(refused.types(0).nacked_version(), v3);
  EXPECT_EQ(refused.types(0).last_error().code(), 3);
  ASSERT_EQ(refused.types(0).last_error().field_violations_size(), 1);
  EXPECT_EQ(refused.types(0).last_error().field_violations(0),
            "providers[0].name: \"broken\" is reserved");
  EXPECT_EQ(list.sidecars(0).types(0).applied_version(), v3);
  ASSERT_EQ(list.current_versions_size(), 1);
  EXPECT_EQ(list.current_versions(0).version(), v3);

  // Shutting down ends every stream with UNAVAILABLE.
  service_.Shutdown();
  for (auto& sidecar : sidecars) {
    discovery::DiscoveryResponse response;
    EXPECT_FALSE(sidecar->stream->Read(&response));
    EXPECT_EQ(sidecar->stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  }
  ASSERT_TRUE(WaitForList([](const admin::ListSidecarsResponse& list) {
    for (const admin::Sidecar& sidecar : list.sidecars()) {
      if (sidecar.connected()) return false;
    }
    return list.sidecars_size() == 3;
  }));
}

TEST_F(DiscoveryServerTest, ManySidecarsEndOnTheLatestVersionOfRapidChanges) {
  constexpr int kSidecars = 50;
  constexpr int kChanges = 20;
  std::string latest = source_.SetRouteConfiguration(RoutesNamed("p0"));
  std::vector<std::unique_ptr<FakeSidecar>> sidecars;
  for (int i = 0; i < kSidecars; ++i) {
    sidecars.push_back(std::make_unique<FakeSidecar>(*stub_));
    ASSERT_TRUE(sidecars[i]->Subscribe(absl::StrCat("s", 100 + i), kRouteConfigurationTypeUrl));
  }
  for (int change = 1; change <= kChanges; ++change) {
    latest = source_.SetRouteConfiguration(RoutesNamed(absl::StrCat("p", change)));
  }
  // Pushes a slow reader has not taken yet are replaced by newer ones, so each sidecar reads at
  // most one push per change (plus the initial one) before it sees the latest version.
  for (auto& sidecar : sidecars) {
    discovery::DiscoveryResponse push;
    for (int read = 0; read <= kChanges && push.version_info() != latest; ++read) {
      push = sidecar->Read();
      ASSERT_TRUE(sidecar->Ack(push));
    }
    EXPECT_EQ(push.version_info(), latest);
  }
  EXPECT_TRUE(WaitUntilAllApplied(latest, kSidecars));
}

TEST_F(DiscoveryServerTest, StreamOpenedAfterShutdownIsRefusedWithUnavailable) {
  service_.Shutdown();
  FakeSidecar sidecar(*stub_);
  sidecar.Subscribe("late", kRouteConfigurationTypeUrl);
  discovery::DiscoveryResponse response;
  EXPECT_FALSE(sidecar.stream->Read(&response));
  EXPECT_EQ(sidecar.stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(DiscoveryServerTest, StreamWhoseFirstMessageHasNoNodeEndsWithInvalidArgument) {
  source_.SetRouteConfiguration(RoutesNamed("openai"));
  FakeSidecar sidecar(*stub_);
  ASSERT_TRUE(sidecar.Subscribe("", kRouteConfigurationTypeUrl));
  discovery::DiscoveryResponse response;
  EXPECT_FALSE(sidecar.stream->Read(&response));
  const grpc::Status status = sidecar.stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "the first DiscoveryRequest of a stream must carry node.id");
  EXPECT_EQ(registry_.List(admin::ListSidecarsRequest(), source_).sidecars_size(), 0);
}

TEST_F(DiscoveryServerTest, SidecarRunningTheCurrentVersionGetsOnlyLaterChanges) {
  const std::string v1 = source_.SetRouteConfiguration(RoutesNamed("openai"));
  FakeSidecar sidecar(*stub_);
  discovery::DiscoveryRequest request;
  request.mutable_node()->set_id("restored");
  request.set_type_url(std::string(kRouteConfigurationTypeUrl));
  request.set_version_info(v1);
  ASSERT_TRUE(sidecar.stream->Write(request));
  ASSERT_TRUE(WaitUntilAllApplied(v1, 1));
  // Nothing was pushed for v1: the first push the sidecar reads is v2.
  const std::string v2 = source_.SetRouteConfiguration(RoutesNamed("anthropic"));
  EXPECT_EQ(sidecar.Read().version_info(), v2);
}

// An InMemoryResourceSource that counts reads of the current state made on one chosen thread:
// building a push reads it, so a publish that builds pushes reads it on the publisher's thread.
class ReadCountingSource final : public ResourceSource {
 public:
  InMemoryResourceSource& inner() { return inner_; }
  void CountReadsOn(std::thread::id thread) { counted_thread_ = thread; }
  int counted_reads() const { return counted_reads_.load(); }

  std::shared_ptr<const VersionedResource> Current(ResourceType type) const override {
    if (std::this_thread::get_id() == counted_thread_.load()) ++counted_reads_;
    return inner_.Current(type);
  }
  SubscriptionId Subscribe(std::function<void()> on_change) override {
    return inner_.Subscribe(std::move(on_change));
  }
  void Unsubscribe(SubscriptionId id) override { inner_.Unsubscribe(id); }

 private:
  InMemoryResourceSource inner_;
  std::atomic<std::thread::id> counted_thread_;
  mutable std::atomic<int> counted_reads_ = 0;
};

TEST(DiscoveryServerPublishTest, PublishingReturnsWithoutBuildingAnyPushAndStreamsStillGetIt) {
  ReadCountingSource source;
  SidecarRegistry registry(SystemClock::Get());
  DiscoveryServer service(source, registry);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto stub = discovery::DiscoveryService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));

  const std::string v1 = source.inner().SetRouteConfiguration(RoutesNamed("openai"));
  std::vector<std::unique_ptr<FakeSidecar>> sidecars;
  for (int i = 0; i < 3; ++i) {
    sidecars.push_back(std::make_unique<FakeSidecar>(*stub));
    ASSERT_TRUE(sidecars[i]->Subscribe(absl::StrCat("sidecar-", i), kRouteConfigurationTypeUrl));
    const discovery::DiscoveryResponse push = sidecars[i]->Read();
    ASSERT_EQ(push.version_info(), v1);
    ASSERT_TRUE(sidecars[i]->Ack(push));
  }

  source.CountReadsOn(std::this_thread::get_id());
  const std::string v2 = source.inner().SetRouteConfiguration(RoutesNamed("anthropic"));
  source.CountReadsOn(std::thread::id());
  EXPECT_EQ(source.counted_reads(), 0);
  for (auto& sidecar : sidecars) {
    const discovery::DiscoveryResponse push = sidecar->Read();
    EXPECT_EQ(push.version_info(), v2);
    EXPECT_EQ(push.resources(0).route_configuration().providers(0).name(), "anthropic");
  }

  service.Shutdown();
  server->Shutdown();
  server->Wait();
}

}  // namespace
}  // namespace llmesh::control
