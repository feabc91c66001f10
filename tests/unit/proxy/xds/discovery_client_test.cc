#include "proxy/xds/discovery_client.h"

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "common/config/loader.h"
#include "llmesh/discovery/v1/discovery.grpc.pb.h"
#include "proxy/config/config_snapshot.h"

namespace llmesh::xds {
namespace {

namespace dv1 = llmesh::discovery::v1;
namespace cv1 = llmesh::config::v1;

constexpr auto kWait = std::chrono::seconds(10);

// A tiny DiscoveryService for one stream at a time: it pushes what the test queues and records
// every request (subscriptions, ACKs, NACKs) the client sends.
class FakeDiscoveryService final : public dv1::DiscoveryService::Service {
 public:
  grpc::Status StreamResources(grpc::ServerContext* context,
                               grpc::ServerReaderWriter<dv1::DiscoveryResponse, dv1::DiscoveryRequest>* stream) override {
    bool closed = false;
    std::thread reader([&] {
      dv1::DiscoveryRequest request;
      while (stream->Read(&request)) {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(request);
        cv_.notify_all();
      }
      std::lock_guard<std::mutex> lock(mu_);
      closed = true;
      cv_.notify_all();
    });
    for (;;) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return closed || shutting_down_ || !pending_.empty(); });
      if (closed || shutting_down_) break;
      dv1::DiscoveryResponse push = std::move(pending_.front());
      pending_.pop_front();
      lock.unlock();
      stream->Write(push);
    }
    context->TryCancel();
    reader.join();
    return grpc::Status::OK;
  }

  void Push(dv1::DiscoveryResponse push) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(std::move(push));
    cv_.notify_all();
  }

  // The first `n` requests once that many arrived; fails the test after kWait.
  std::vector<dv1::DiscoveryRequest> WaitForRequests(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, kWait, [&] { return requests_.size() >= n; }))
        << "got " << requests_.size() << " requests, expected " << n;
    return requests_;
  }

  void ShutDown() {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<dv1::DiscoveryResponse> pending_;
  std::vector<dv1::DiscoveryRequest> requests_;
  bool shutting_down_ = false;
};

class FakeControlPlane {
 public:
  FakeControlPlane() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~FakeControlPlane() { Stop(); }

  void Stop() {
    if (server_ == nullptr) return;
    service_.ShutDown();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    server_->Wait();
    server_.reset();
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  FakeDiscoveryService& service() { return service_; }

 private:
  FakeDiscoveryService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

config::EnvLookup NoEnv() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

cv1::Config ParseYaml(std::string_view yaml) {
  absl::StatusOr<cv1::Config> config = config::ParseConfigYaml(yaml, NoEnv());
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : cv1::Config();
}

constexpr std::string_view kFileConfig = R"(
listen: 127.0.0.1:4123
providers:
  - name: local
    kind: openai_compatible
    base_url: http://127.0.0.1:9/
    models: [{name: m}]
routes:
  - model: chat
    targets: [{provider: local, model: m}]
)";

// A pushed route configuration: providers and routes of `yaml`.
dv1::DiscoveryResponse RoutesPush(std::string_view yaml, std::string version, std::string nonce) {
  cv1::Config parsed = ParseYaml(yaml);
  dv1::DiscoveryResponse push;
  push.set_version_info(std::move(version));
  push.set_type_url(kRouteConfigurationTypeUrl);
  push.set_nonce(std::move(nonce));
  dv1::RouteConfiguration& routes = *push.add_resources()->mutable_route_configuration();
  *routes.mutable_providers() = parsed.providers();
  *routes.mutable_routes() = parsed.routes();
  return push;
}

constexpr std::string_view kPushedRoutes = R"(
providers:
  - name: remote
    kind: openai_compatible
    base_url: http://127.0.0.1:10/
    models: [{name: big}]
routes:
  - model: chat2
    targets: [{provider: remote, model: big}]
)";

constexpr std::string_view kUnknownProviderRoutes = R"(
providers:
  - name: remote
    kind: openai_compatible
    base_url: http://127.0.0.1:10/
    models: [{name: big}]
routes:
  - model: chat3
    targets: [{provider: opnai, model: big}]
)";

// Activates configs the way llmesh-proxy does (CombineConfig with the file, then
// config::ValidateAndCompile) and keeps the active snapshot where the test can read it.
class CompilingActivator final : public ConfigActivator {
 public:
  explicit CompilingActivator(cv1::Config file) : file_(std::move(file)) {}

  absl::Status Activate(const dv1::RouteConfiguration& routes) override { return ActivateConfig(CombineConfig(file_, routes)); }
  absl::Status ActivateConfig(const cv1::Config& config) {
    absl::StatusOr<std::shared_ptr<const config::ConfigSnapshot>> compiled =
        config::ValidateAndCompile(config::PartialConfig{config, {}}, shared_, NoEnv());
    if (!compiled.ok()) return compiled.status();
    active_.store(*std::move(compiled));
    return absl::OkStatus();
  }
  std::shared_ptr<const config::ConfigSnapshot> active() const { return active_.load(); }

 private:
  const cv1::Config file_;
  metrics::Registry registry_;
  metrics::ProxyMetrics metrics_{registry_};
  config::SharedState shared_{metrics_};
  std::atomic<std::shared_ptr<const config::ConfigSnapshot>> active_;
};

cv1::Config FileConfig(const std::string& state_dir) {
  cv1::Config file = ParseYaml(kFileConfig);
  file.mutable_control_plane()->set_node_id("sidecar-1");
  file.mutable_control_plane()->set_address("127.0.0.1:15010");
  file.mutable_control_plane()->set_state_dir(state_dir);
  return file;
}

std::string MakeStateDir() {
  std::string pattern = ::testing::TempDir() + "/xds_client_XXXXXX";
  EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
  return pattern;
}

bool HasRoute(const config::ConfigSnapshot& snapshot, std::string_view model) {
  return snapshot.FindRoute(model, "", [](std::string_view) { return std::string_view(); }) != nullptr;
}

class DiscoveryClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status active = activator_.ActivateConfig(file_config_);
    ASSERT_TRUE(active.ok()) << active;
  }

  DiscoveryClientOptions Options(const std::string& address) {
    DiscoveryClientOptions options;
    options.address = address;
    options.node = MakeNode(file_config_.control_plane(), [](std::string_view name) -> std::optional<std::string> {
      if (name == "POD_NAME") return std::string("pod-1");
      if (name == "POD_NAMESPACE") return std::string("ns");
      return std::nullopt;
    });
    options.state_dir = state_dir_;
    return options;
  }

  // Waits until `done(stats)` holds; false after kWait.
  template <typename Pred>
  static bool WaitForStats(const DiscoveryClient& client, Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done(client.stats())) return true;
      std::this_thread::yield();
    }
    return false;
  }

  const std::string state_dir_ = MakeStateDir();
  const cv1::Config file_config_ = FileConfig(state_dir_);
  CompilingActivator activator_{file_config_};
  GlobalWeights weights_;
  FakeClock clock_;
};

TEST_F(DiscoveryClientTest, SubscribesToBothTypesWithTheNodeOnTheFirstMessage) {
  FakeControlPlane control_plane;
  DiscoveryClient client(Options(control_plane.address()), activator_, weights_, clock_);
  client.Start();
  std::vector<dv1::DiscoveryRequest> requests = control_plane.service().WaitForRequests(2);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].node().id(), "sidecar-1");
  EXPECT_EQ(requests[0].node().pod(), "pod-1");
  EXPECT_EQ(requests[0].node().namespace_(), "ns");
  EXPECT_FALSE(requests[0].node().proxy_version().empty());
  EXPECT_EQ(requests[0].type_url(), kRouteConfigurationTypeUrl);
  EXPECT_EQ(requests[0].version_info(), "");
  EXPECT_EQ(requests[0].response_nonce(), "");
  EXPECT_EQ(requests[1].type_url(), kWeightAssignmentTypeUrl);
  EXPECT_EQ(requests[1].version_info(), "");
}

TEST_F(DiscoveryClientTest, ValidPushIsAppliedSavedAndAcked) {
  FakeControlPlane control_plane;
  DiscoveryClient client(Options(control_plane.address()), activator_, weights_, clock_);
  client.Start();
  control_plane.service().Push(RoutesPush(kPushedRoutes, "v1", "n1"));
  std::vector<dv1::DiscoveryRequest> requests = control_plane.service().WaitForRequests(3);
  ASSERT_EQ(requests.size(), 3u);
  const dv1::DiscoveryRequest& ack = requests[2];
  EXPECT_EQ(ack.type_url(), kRouteConfigurationTypeUrl);
  EXPECT_EQ(ack.version_info(), "v1");
  EXPECT_EQ(ack.response_nonce(), "n1");
  EXPECT_FALSE(ack.has_error_detail());

  std::shared_ptr<const config::ConfigSnapshot> active = activator_.active();
  EXPECT_TRUE(HasRoute(*active, "chat2"));
  EXPECT_FALSE(HasRoute(*active, "chat"));
  EXPECT_EQ(active->source().listen(), "127.0.0.1:4123");  // the rest of the file stays
  EXPECT_EQ(client.stats().route_version, "v1");
  absl::StatusOr<VersionedRoutes> saved = LoadRouteConfiguration(state_dir_);
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(saved->version, "v1");
  EXPECT_EQ(saved->routes.routes(0).model(), "chat2");
}

TEST_F(DiscoveryClientTest, InvalidPushIsNackedWithTheFieldPathAndTheOldConfigKeepsServing) {
  FakeControlPlane control_plane;
  DiscoveryClient client(Options(control_plane.address()), activator_, weights_, clock_);
  client.Start();
  control_plane.service().Push(RoutesPush(kPushedRoutes, "v1", "n1"));
  control_plane.service().Push(RoutesPush(kUnknownProviderRoutes, "v2", "n2"));
  std::vector<dv1::DiscoveryRequest> requests = control_plane.service().WaitForRequests(4);
  ASSERT_EQ(requests.size(), 4u);
  const dv1::DiscoveryRequest& nack = requests[3];
  EXPECT_EQ(nack.type_url(), kRouteConfigurationTypeUrl);
  EXPECT_EQ(nack.version_info(), "v1");
  EXPECT_EQ(nack.response_nonce(), "n2");
  ASSERT_TRUE(nack.has_error_detail());
  EXPECT_EQ(nack.error_detail().code(), 3);
  ASSERT_EQ(nack.error_detail().field_violations_size(), 1);
  EXPECT_EQ(nack.error_detail().field_violations(0), "routes[0].targets[0].provider: unknown provider \"opnai\"");
  EXPECT_EQ(nack.error_detail().message(), "invalid route configuration");

  std::shared_ptr<const config::ConfigSnapshot> active = activator_.active();
  EXPECT_TRUE(HasRoute(*active, "chat2"));
  EXPECT_FALSE(HasRoute(*active, "chat3"));
  EXPECT_EQ(client.stats().route_version, "v1");
  EXPECT_EQ(client.stats().nacks, 1u);
  absl::StatusOr<VersionedRoutes> saved = LoadRouteConfiguration(state_dir_);
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(saved->version, "v1");  // only ACKed configs are kept
}

TEST_F(DiscoveryClientTest, RestartedSidecarBootsFromStateDirWhileTheControlPlaneIsDown) {
  std::string dead_address;
  {
    FakeControlPlane control_plane;
    dead_address = control_plane.address();
    DiscoveryClient client(Options(control_plane.address()), activator_, weights_, clock_);
    client.Start();
    control_plane.service().Push(RoutesPush(kPushedRoutes, "v1", "n1"));
    ASSERT_EQ(control_plane.service().WaitForRequests(3).size(), 3u);
    client.Stop();
    control_plane.Stop();
  }

  // A new process: it starts from its file, then from state_dir, with nobody listening.
  CompilingActivator restarted(file_config_);
  ASSERT_TRUE(restarted.ActivateConfig(file_config_).ok());
  absl::StatusOr<VersionedRoutes> restored = LoadRouteConfiguration(state_dir_);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->version, "v1");
  ASSERT_TRUE(restarted.Activate(restored->routes).ok());
  EXPECT_TRUE(HasRoute(*restarted.active(), "chat2"));
  DiscoveryClientOptions options = Options(dead_address);
  options.initial_route_version = restored->version;
  DiscoveryClient client(options, restarted, weights_, clock_);
  client.Start();
  ASSERT_TRUE(WaitForStats(client, [](const DiscoveryClient::Stats& s) { return s.streams_failed >= 1; }));
  EXPECT_TRUE(HasRoute(*restarted.active(), "chat2"));
  EXPECT_EQ(client.stats().route_version, "v1");
  EXPECT_EQ(client.stats().acks, 0u);
  client.Stop();  // returns during the back-off wait
}

TEST_F(DiscoveryClientTest, ReconnectSubscribesWithTheRestoredVersion) {
  FakeControlPlane control_plane;
  DiscoveryClientOptions options = Options(control_plane.address());
  options.initial_route_version = "v7";
  DiscoveryClient client(options, activator_, weights_, clock_);
  client.Start();
  std::vector<dv1::DiscoveryRequest> requests = control_plane.service().WaitForRequests(1);
  ASSERT_GE(requests.size(), 1u);
  EXPECT_EQ(requests[0].version_info(), "v7");
}

TEST_F(DiscoveryClientTest, WeightAssignmentIsAckedAndExpiresAfterItsTtl) {
  FakeControlPlane control_plane;
  DiscoveryClient client(Options(control_plane.address()), activator_, weights_, clock_);
  client.Start();
  dv1::DiscoveryResponse push;
  push.set_version_info("w1");
  push.set_type_url(kWeightAssignmentTypeUrl);
  push.set_nonce("n1");
  dv1::WeightAssignment& assignment = *push.add_resources()->mutable_weight_assignment();
  assignment.mutable_ttl()->set_seconds(60);
  auto* target = assignment.add_routes();
  target->set_route("chat");
  target->add_targets()->set_provider("local");
  target->mutable_targets(0)->set_model("m");
  target->mutable_targets(0)->set_weight(10000);
  control_plane.service().Push(push);
  std::vector<dv1::DiscoveryRequest> requests = control_plane.service().WaitForRequests(3);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[2].type_url(), kWeightAssignmentTypeUrl);
  EXPECT_EQ(requests[2].version_info(), "w1");
  EXPECT_EQ(requests[2].response_nonce(), "n1");
  EXPECT_FALSE(requests[2].has_error_detail());
  EXPECT_EQ(weights_.EffectiveWeight("chat", "local", "m", 1, clock_.Now()), 10000u);
  clock_.Advance(std::chrono::seconds(60));
  EXPECT_EQ(weights_.EffectiveWeight("chat", "local", "m", 1, clock_.Now()), 1u);
}

TEST_F(DiscoveryClientTest, WeightAssignmentWithoutTtlIsNacked) {
  FakeControlPlane control_plane;
  DiscoveryClient client(Options(control_plane.address()), activator_, weights_, clock_);
  client.Start();
  dv1::DiscoveryResponse push;
  push.set_version_info("w1");
  push.set_type_url(kWeightAssignmentTypeUrl);
  push.set_nonce("n1");
  push.add_resources()->mutable_weight_assignment();
  control_plane.service().Push(push);
  std::vector<dv1::DiscoveryRequest> requests = control_plane.service().WaitForRequests(3);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[2].version_info(), "");
  EXPECT_EQ(requests[2].response_nonce(), "n1");
  EXPECT_EQ(requests[2].error_detail().code(), 3);
  ASSERT_EQ(requests[2].error_detail().field_violations_size(), 1);
  EXPECT_EQ(requests[2].error_detail().field_violations(0), "ttl: must be > 0, got 0s 0ns");
  EXPECT_EQ(weights_.Current(), nullptr);
}

}  // namespace
}  // namespace llmesh::xds
