// An AdminService over a store in a temporary directory, served by an in-process gRPC server on
// 127.0.0.1:0, with a client stub. Shared by the admin service tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "controlplane/admin/admin_service.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "tests/fakes/process_harness.h"

namespace llmesh::control::testing_admin {

inline constexpr char kToken[] = "s3cret-token";

class AdminTestServer {
 public:
  // `sidecars` and `health` may be null; they must outlive the server.
  explicit AdminTestServer(const SidecarDirectory* sidecars = nullptr,
                           const HealthSource* health = nullptr, std::string token = kToken) {
    Store::Options store_options;
    store_options.wall_clock = [this] { return now; };
    absl::StatusOr<std::unique_ptr<Store>> store =
        Store::Open(absl::StrCat(dir_.path(), "/store.db"), store_options);
    EXPECT_TRUE(store.ok()) << store.status();
    store_ = std::make_unique<SharedStore>(*std::move(store));
    AdminService::Options options;
    options.sidecars = sidecars;
    options.health = health;
    options.wall_clock = [this] { return now; };
    options.on_route_configuration_change = [this](const RouteConfigurationSnapshot& snapshot) {
      pushed_versions.push_back(snapshot.version);
    };
    options.on_weight_overrides_change = [this] { ++override_changes; };
    service_ = std::make_unique<AdminService>(*store_, BearerAuth(std::move(token)), options);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    EXPECT_NE(port, 0);
    stub = llmesh::admin::v1::AdminService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  ~AdminTestServer() { server_->Shutdown(); }

  // A client context carrying `authorization: Bearer <token>` (none when `token` is null).
  static std::unique_ptr<grpc::ClientContext> Context(const char* token = kToken) {
    auto context = std::make_unique<grpc::ClientContext>();
    if (token != nullptr) context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return context;
  }

  // Written by the test between calls; read on gRPC's threads during a call (the call orders
  // the accesses).
  absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  std::unique_ptr<llmesh::admin::v1::AdminService::Stub> stub;
  // Recorded by the change callbacks (on gRPC's threads, before the call returns).
  std::vector<std::string> pushed_versions;
  int override_changes = 0;

 private:
  testing::ScopedTempDir dir_;
  std::unique_ptr<SharedStore> store_;
  std::unique_ptr<AdminService> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace llmesh::control::testing_admin
