#include "tests/integration/mesh/mesh_fixture.h"

#include <algorithm>
#include <utility>

#include <boost/beast/http/verb.hpp>

#include "absl/strings/str_cat.h"

namespace llmesh::testing {
namespace {

namespace adminpb = llmesh::admin::v1;
using std::chrono::milliseconds;

constexpr milliseconds kStartTimeout{20000};

// Local ejections last 1 s (not 30 s) so a provider's recovery shows within a test's timeouts.
std::string ProviderYaml(const FakeProviderProcess& fake) {
  return absl::StrCat("  - name: ", fake.name, "\n    kind: openai\n    base_url: ", fake.BaseUrl(),
                      "\n    outlier_detection: {base_ejection_time: 1s}",
                      "\n    api_key_env: KEY_", fake.name,
                      "\n    models: [{name: fake-model, input_usd_per_mtok: ",
                      fake.name == "alpha" ? "1" : "10", ", output_usd_per_mtok: ",
                      fake.name == "alpha" ? "2" : "20", "}]\n");
}

}  // namespace

void MeshTest::StartControlPlane(std::vector<std::string> control_args, bool beta_in_bootstrap,
                                 std::string route_extra) {
  beta_in_bootstrap_ = beta_in_bootstrap;
  route_extra_ = std::move(route_extra);
  alpha_ = FakeProviderProcess::Start("alpha");
  beta_ = FakeProviderProcess::Start("beta");
  ASSERT_NE(alpha_->port, 0);
  ASSERT_NE(beta_->port, 0);
  control_ = ControlPlaneProcess::Start(temp_, Bootstrap(), std::move(control_args));
  ASSERT_NE(control_, nullptr);
}

std::string MeshTest::Bootstrap() const {
  return absl::StrCat("providers:\n", ProviderYaml(*alpha_),
                      beta_in_bootstrap_ ? ProviderYaml(*beta_) : std::string(),
                      "routes:\n  - model: chat\n    targets:\n"
                      "      - {provider: alpha, model: fake-model}\n",
                      route_extra_);
}

std::string MeshTest::BetaProviderFile() const {
  return temp_.WriteFile("beta.yaml", absl::StrCat("providers:\n", ProviderYaml(*beta_)));
}

SidecarProcess& MeshTest::StartSidecar(int index, int workers,
                                       const std::vector<std::string>& missing_keys) {
  SidecarProcess& sidecar = sidecars_[index];
  sidecar = SidecarProcess{};
  sidecar.node_id = absl::StrCat("sidecar-", index);
  // The file's own provider and route are replaced by what the control plane pushes.
  const std::string config = temp_.WriteFile(
      absl::StrCat(sidecar.node_id, ".yaml"),
      absl::StrCat("listen: 127.0.0.1:0\nadmin_listen: 127.0.0.1:0\naccess_log: {path: \"off\"}\n"
                   "providers:\n  - name: local\n    kind: openai_compatible\n"
                   "    base_url: http://127.0.0.1:9/\n    models: [{name: m}]\n"
                   "routes:\n  - model: file-chat\n    targets: [{provider: local, model: m}]\n"
                   "control_plane:\n  address: ",
                   control_->address(), "\n  node_id: ", sidecar.node_id, "\n  state_dir: ",
                   temp_.path(), "/state-", sidecar.node_id, "\n"));
  EnvVars env;
  for (const char* name : {"alpha", "beta"}) {
    if (std::find(missing_keys.begin(), missing_keys.end(), name) != missing_keys.end()) continue;
    env.emplace_back(absl::StrCat("KEY_", name), absl::StrCat(name, "-key"));
  }
  absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::Start(
      BinaryPath("llmesh-proxy"), {"--config", config, "--workers", absl::StrCat(workers)},
      std::move(env));
  EXPECT_TRUE(process.ok()) << process.status();
  if (!process.ok()) return sidecar;
  sidecar.process = *std::move(process);
  absl::StatusOr<uint16_t> proxy = sidecar.process->WaitForListening("proxy", kStartTimeout);
  absl::StatusOr<uint16_t> admin = sidecar.process->WaitForListening("admin", kStartTimeout);
  EXPECT_TRUE(proxy.ok() && admin.ok()) << sidecar.process->Output();
  sidecar.proxy_port = proxy.ok() ? *proxy : 0;
  sidecar.admin_port = admin.ok() ? *admin : 0;
  return sidecar;
}

bool MeshTest::WaitUntilApplied(const std::vector<std::string>& node_ids, const std::string& version,
                                milliseconds timeout) {
  return WaitForSidecars(
      [&](const std::map<std::string, adminpb::Sidecar>& listed) {
        for (const std::string& id : node_ids) {
          auto it = listed.find(id);
          if (it == listed.end()) return false;
          const adminpb::SidecarTypeState state = RoutesState(it->second);
          if (state.applied_version() != version || state.status() != adminpb::SYNCED) return false;
        }
        return true;
      },
      timeout);
}

std::string MeshTest::RouteConfigurationVersion() {
  adminpb::ListRoutesResponse routes;
  grpc::Status status =
      control_->admin().ListRoutes(ControlPlaneProcess::Context().get(), {}, &routes);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return routes.route_configuration_version();
}

HttpResponse MeshTest::Chat(const SidecarProcess& sidecar, std::string_view model) {
  return Request(sidecar.proxy_port, boost::beast::http::verb::post, "/v1/chat/completions",
                 absl::StrCat(R"({"model":")", std::string(model), R"(","messages":[{"role":"user","content":"hi"}]})"));
}

}  // namespace llmesh::testing
