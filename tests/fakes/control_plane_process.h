// A real llmesh-control process for integration tests: loopback listeners on kernel-chosen
// ports, a SQLite store in the test's temporary directory (so a restart on the same directory
// finds the same store), a bootstrap file and an admin token; with an admin stub, authorised
// call contexts and llmeshctl runs against it.
//
// Threading: one test thread; the stub may be used from any thread (gRPC stubs are).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "grpcpp/client_context.h"
#include "llmesh/admin/v1/admin.grpc.pb.h"
#include "tests/fakes/process_harness.h"

namespace llmesh::testing {

// A bootstrap of two providers (primary/gpt-a, secondary/gpt-b, their base URLs unreachable) and
// route `chat` over both in two priority tiers: enough for the admin API and llmeshctl.
inline constexpr char kTwoProviderBootstrap[] = R"(
providers:
  - name: primary
    kind: openai
    base_url: http://127.0.0.1:9/v1
    api_key_env: PRIMARY_API_KEY
    models:
      - name: gpt-a
  - name: secondary
    kind: openai
    base_url: http://127.0.0.1:9/v1
    api_key_env: SECONDARY_API_KEY
    models:
      - name: gpt-b
routes:
  - model: chat
    targets:
      - provider: primary
        model: gpt-a
      - provider: secondary
        model: gpt-b
        priority: 1
)";

// What one llmeshctl run printed and how it ended.
struct CtlRun {
  std::optional<int> exit_code;    // nullopt if it did not exit in time
  std::vector<std::string> lines;  // stdout and stderr, in arrival order
};

class ControlPlaneProcess {
 public:
  // The admin token the process is started with (from the environment variable it is told).
  static constexpr char kToken[] = "integration-admin-token";

  // Starts llmesh-control with its store at `dir`/store.db and `bootstrap_yaml` written to
  // `dir`/bootstrap.yaml, plus `extra_args`, its gRPC listener on `grpc_listen` (a restart
  // passes the previous address() so clients reconnect); waits for its gRPC and HTTP
  // listeners. On failure the test fails (ADD_FAILURE with the process's output) and nullptr
  // is returned.
  static std::unique_ptr<ControlPlaneProcess> Start(const ScopedTempDir& dir,
                                                    std::string_view bootstrap_yaml,
                                                    std::vector<std::string> extra_args = {},
                                                    std::string grpc_listen = "127.0.0.1:0");

  ChildProcess& process() { return *process_; }
  uint16_t grpc_port() const { return grpc_port_; }
  uint16_t http_port() const { return http_port_; }
  // "127.0.0.1:<grpc port>", as sidecars and llmeshctl are given it.
  std::string address() const;
  llmesh::admin::v1::AdminService::Stub& admin() { return *admin_; }

  // A client context carrying `token` as its bearer token, with a 10 s deadline.
  static std::unique_ptr<grpc::ClientContext> Context(std::string_view token = kToken);

  // Runs llmeshctl --server address() `args` with LLMESH_ADMIN_TOKEN=`token` and waits up to
  // 20 s for it to exit.
  CtlRun Ctl(std::vector<std::string> args, std::string token = kToken) const;

  // The sidecars the control plane lists, by node id (empty if the call fails).
  std::map<std::string, llmesh::admin::v1::Sidecar> Sidecars();
  // Polls Sidecars() (every 5 ms) until `done` holds for them or `timeout` passes.
  bool WaitForSidecars(
      const std::function<bool(const std::map<std::string, llmesh::admin::v1::Sidecar>&)>& done,
      std::chrono::milliseconds timeout);
  // The route-configuration state of `sidecar` (an empty state if it has none).
  static llmesh::admin::v1::SidecarTypeState RoutesState(const llmesh::admin::v1::Sidecar& sidecar);

 private:
  ControlPlaneProcess() = default;

  std::unique_ptr<ChildProcess> process_;
  uint16_t grpc_port_ = 0;
  uint16_t http_port_ = 0;
  std::unique_ptr<llmesh::admin::v1::AdminService::Stub> admin_;
};

}  // namespace llmesh::testing
