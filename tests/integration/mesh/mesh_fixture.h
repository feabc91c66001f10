// A whole mesh on loopback for integration tests: fake providers "alpha" and "beta"
// (llmesh-fake-provider), one llmesh-control bootstrapped with both and a route `chat` to
// alpha, and llmesh-proxy sidecars connected to it (node ids sidecar-1, sidecar-2, ...), each
// with its own state_dir. The control plane's admin API reads what the sidecars applied.
//
// Threading: one test thread (the admin stub may be used from others).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "llmesh/admin/v1/admin.pb.h"
#include "tests/fakes/control_plane_process.h"
#include "tests/fakes/fake_provider_process.h"
#include "tests/fakes/process_harness.h"
#include "tests/fakes/test_http_client.h"

namespace llmesh::testing {

struct SidecarProcess {
  std::string node_id;
  std::unique_ptr<ChildProcess> process;
  uint16_t proxy_port = 0;
  uint16_t admin_port = 0;
};

class MeshTest : public ::testing::Test {
 protected:
  // Starts the fake providers and the control plane (`control_args` are added to its flags);
  // without `beta_in_bootstrap` the bootstrap declares alpha only; `route_extra` is appended to
  // the bootstrap's route (e.g. another target).
  void StartControlPlane(std::vector<std::string> control_args = {}, bool beta_in_bootstrap = true,
                         std::string route_extra = {});
  // Starts sidecar-<index> (1-based) with `workers` workers and the provider keys in its
  // environment except those named in `missing_keys`; waits for its listeners. Replaces a
  // sidecar of that index that has exited.
  SidecarProcess& StartSidecar(int index, int workers = 1,
                               const std::vector<std::string>& missing_keys = {});

  // The bootstrap YAML: providers alpha and (unless left out at start) beta, keys from
  // KEY_alpha / KEY_beta, and route `chat` to alpha (and what StartControlPlane appends).
  std::string Bootstrap() const;
  // A `providers:` file declaring beta, for llmeshctl providers apply.
  std::string BetaProviderFile() const;

  // The control plane's sidecar list and waits on it (ControlPlaneProcess).
  std::map<std::string, llmesh::admin::v1::Sidecar> Sidecars() { return control_->Sidecars(); }
  static llmesh::admin::v1::SidecarTypeState RoutesState(const llmesh::admin::v1::Sidecar& sidecar) {
    return ControlPlaneProcess::RoutesState(sidecar);
  }
  bool WaitForSidecars(
      const std::function<bool(const std::map<std::string, llmesh::admin::v1::Sidecar>&)>& done,
      std::chrono::milliseconds timeout) {
    return control_->WaitForSidecars(done, timeout);
  }
  // Waits until each of `node_ids` has applied route configuration `version` (SYNCED).
  bool WaitUntilApplied(const std::vector<std::string>& node_ids, const std::string& version,
                        std::chrono::milliseconds timeout);
  // The control plane's current route configuration version.
  std::string RouteConfigurationVersion();

  // A non-streaming chat completion for `model` through `sidecar`.
  static HttpResponse Chat(const SidecarProcess& sidecar, std::string_view model = "chat");

  ControlPlaneProcess& control() { return *control_; }
  FakeProviderProcess& alpha() { return *alpha_; }
  FakeProviderProcess& beta() { return *beta_; }
  std::map<int, SidecarProcess>& sidecars() { return sidecars_; }
  const ScopedTempDir& temp() const { return temp_; }

  ScopedTempDir temp_;
  std::unique_ptr<FakeProviderProcess> alpha_;
  std::unique_ptr<FakeProviderProcess> beta_;
  std::unique_ptr<ControlPlaneProcess> control_;
  std::map<int, SidecarProcess> sidecars_;
  bool beta_in_bootstrap_ = true;
  std::string route_extra_;
};

}  // namespace llmesh::testing
