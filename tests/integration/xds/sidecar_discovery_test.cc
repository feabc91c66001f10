// llmesh-proxy as a sidecar of a real llmesh-control (docs/control-plane.md, "Discovery"): it
// boots, receives the control plane's route configuration in place of its file's, ACKs route
// changes, NACKs one it cannot apply while serving the previous one, keeps pushed routes over a
// SIGHUP reload, and a sidecar restarted
// after the control plane was SIGKILLed boots from its state_dir.
#include <csignal>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/verb.hpp>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "llmesh/admin/v1/admin.grpc.pb.h"
#include "tests/fakes/control_plane_process.h"
#include "tests/fakes/process_harness.h"
#include "tests/fakes/test_http_client.h"

namespace llmesh::testing {
namespace {

namespace adminpb = llmesh::admin::v1;
using std::chrono::milliseconds;

constexpr milliseconds kStartTimeout{20000};
constexpr milliseconds kPushTimeout{10000};

constexpr char kBootstrap[] = R"(
providers:
  - name: primary
    kind: openai
    base_url: http://127.0.0.1:9/v1
    api_key_env: PRIMARY_API_KEY
    models:
      - name: gpt-a
routes:
  - model: pushed-chat
    targets:
      - provider: primary
        model: gpt-a
)";

// The sidecar's file: its own provider and route, replaced by what the control plane pushes.
std::string SidecarConfig(uint16_t control_port, const std::string& state_dir) {
  return absl::StrCat(R"(
listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
access_log: {path: "off"}
providers:
  - name: local
    kind: openai_compatible
    base_url: http://127.0.0.1:9/
    models: [{name: m}]
routes:
  - model: file-chat
    targets: [{provider: local, model: m}]
control_plane:
  address: 127.0.0.1:)", control_port, R"(
  node_id: sidecar-1
  state_dir: )", state_dir, "\n");
}

bool HasLine(ChildProcess& process, std::string_view text, milliseconds timeout, size_t from = 0) {
  return process
      .WaitForLine([text](std::string_view line) { return line.find(text) != line.npos; }, timeout, from)
      .has_value();
}

class SidecarDiscoveryTest : public ::testing::Test {
 protected:
  void StartControl() {
    control_ = ControlPlaneProcess::Start(temp_, kBootstrap);
    ASSERT_NE(control_, nullptr);
    control_port_ = control_->grpc_port();
  }

  // Starts a sidecar; returns its admin port (0 on failure).
  uint16_t StartSidecar(std::unique_ptr<ChildProcess>& sidecar) {
    const std::string config =
        temp_.WriteFile("sidecar.yaml", SidecarConfig(control_port_, absl::StrCat(temp_.path(), "/state")));
    absl::StatusOr<std::unique_ptr<ChildProcess>> process =
        ChildProcess::Start(BinaryPath("llmesh-proxy"), {"--config", config, "--workers", "1"},
                            {{"PRIMARY_API_KEY", "sk-test"}});
    EXPECT_TRUE(process.ok()) << process.status();
    if (!process.ok()) return 0;
    sidecar = *std::move(process);
    absl::StatusOr<uint16_t> admin = sidecar->WaitForListening("admin", kStartTimeout);
    EXPECT_TRUE(admin.ok()) << sidecar->Output();
    return admin.ok() ? *admin : 0;
  }

  static std::unique_ptr<grpc::ClientContext> Context() { return ControlPlaneProcess::Context(); }

  // The route-configuration state of sidecar-1 once `done` holds for it, polled until kPushTimeout.
  template <typename Pred>
  std::optional<adminpb::SidecarTypeState> WaitForSidecar(Pred done) {
    std::optional<adminpb::SidecarTypeState> last;
    control_->WaitForSidecars(
        [&](const std::map<std::string, adminpb::Sidecar>& listed) {
          auto it = listed.find("sidecar-1");
          if (it == listed.end()) return false;
          last = ControlPlaneProcess::RoutesState(it->second);
          return done(*last);
        },
        kPushTimeout);
    return last;
  }

  static std::string ConfigDump(uint16_t admin_port) {
    HttpResponse dump = Request(admin_port, boost::beast::http::verb::get, "/config_dump");
    EXPECT_EQ(dump.status, 200) << dump.error;
    return dump.body;
  }

  ScopedTempDir temp_;
  std::unique_ptr<ControlPlaneProcess> control_;
  uint16_t control_port_ = 0;
};

TEST_F(SidecarDiscoveryTest, AppliesPushesNacksWhatItCannotApplyAndRestartsFromStateDir) {
  ASSERT_NO_FATAL_FAILURE(StartControl());
  std::unique_ptr<ChildProcess> sidecar;
  const uint16_t admin_port = StartSidecar(sidecar);
  ASSERT_NE(admin_port, 0);

  // The bootstrap route configuration replaces the file's providers and routes.
  ASSERT_TRUE(HasLine(*sidecar, R"("msg":"config pushed")", kPushTimeout)) << sidecar->Output();
  std::string dump = ConfigDump(admin_port);
  EXPECT_NE(dump.find("pushed-chat"), std::string::npos) << dump;
  EXPECT_EQ(dump.find("file-chat"), std::string::npos) << dump;

  // A route change reaches the sidecar and is ACKed.
  adminpb::ApplyRouteRequest apply;
  apply.mutable_route()->set_model("embed");
  auto* target = apply.mutable_route()->add_targets();
  target->set_provider("primary");
  target->set_model("gpt-a");
  adminpb::ApplyRouteResponse applied;
  grpc::Status status = control_->admin().ApplyRoute(Context().get(), apply, &applied);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string acked_version = applied.route_configuration_version();
  std::optional<adminpb::SidecarTypeState> state =
      WaitForSidecar([&](const adminpb::SidecarTypeState& s) { return s.applied_version() == acked_version; });
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->applied_version(), acked_version);
  EXPECT_EQ(state->status(), adminpb::SYNCED);
  EXPECT_NE(ConfigDump(admin_port).find("embed"), std::string::npos);

  // A provider whose key variable the sidecar does not have passes the control plane's portable
  // validation but not the sidecar's: NACKed with the field path, the previous config serving.
  adminpb::ApplyProviderRequest provider;
  provider.mutable_provider()->set_name("third");
  provider.mutable_provider()->set_kind(config::v1::Provider::OPENAI);
  provider.mutable_provider()->set_base_url("http://127.0.0.1:9/v1");
  provider.mutable_provider()->set_api_key_env("LLMESH_TEST_UNSET_KEY");
  provider.mutable_provider()->add_models()->set_name("gpt-c");
  adminpb::ApplyProviderResponse provider_applied;
  status = control_->admin().ApplyProvider(Context().get(), provider, &provider_applied);
  ASSERT_TRUE(status.ok()) << status.error_message();
  state = WaitForSidecar([](const adminpb::SidecarTypeState& s) { return s.status() == adminpb::NACKED; });
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->status(), adminpb::NACKED);
  EXPECT_EQ(state->applied_version(), acked_version);
  EXPECT_EQ(state->nacked_version(), provider_applied.route_configuration_version());
  EXPECT_EQ(state->last_error().code(), 3);
  ASSERT_EQ(state->last_error().field_violations_size(), 1);
  EXPECT_EQ(state->last_error().field_violations(0).rfind("providers[1].api_key_env: ", 0), 0u)
      << state->last_error().field_violations(0);
  dump = ConfigDump(admin_port);
  EXPECT_NE(dump.find("embed"), std::string::npos);
  EXPECT_EQ(dump.find("third"), std::string::npos);

  // A SIGHUP rereads the file's own settings; the pushed providers and routes stay.
  const size_t before_reload = sidecar->LineCount();
  sidecar->Signal(SIGHUP);
  ASSERT_TRUE(HasLine(*sidecar, R"("msg":"config reloaded")", kPushTimeout, before_reload)) << sidecar->Output();
  dump = ConfigDump(admin_port);
  EXPECT_NE(dump.find("embed"), std::string::npos) << dump;
  EXPECT_EQ(dump.find("file-chat"), std::string::npos) << dump;

  // Control plane gone: the sidecar keeps serving, and a sidecar restarted meanwhile boots from
  // its state_dir into the last version it ACKed.
  control_->process().Signal(SIGKILL);
  ASSERT_EQ(control_->process().WaitExit(milliseconds(15000)), std::optional<int>(128 + SIGKILL));
  ASSERT_TRUE(HasLine(*sidecar, R"("msg":"control-plane stream ended)", kPushTimeout));
  EXPECT_EQ(Request(admin_port, boost::beast::http::verb::get, "/readyz").status, 200);
  sidecar->Signal(SIGTERM);
  ASSERT_EQ(sidecar->WaitExit(milliseconds(15000)), std::optional<int>(0)) << sidecar->Output();

  std::unique_ptr<ChildProcess> restarted;
  const uint16_t restarted_admin = StartSidecar(restarted);
  ASSERT_NE(restarted_admin, 0);
  EXPECT_TRUE(HasLine(*restarted, absl::StrCat(R"("msg":"booted from state_dir","version":")", acked_version),
                      milliseconds(1000)))
      << restarted->Output();
  dump = ConfigDump(restarted_admin);
  EXPECT_NE(dump.find("embed"), std::string::npos) << dump;
  EXPECT_EQ(dump.find("file-chat"), std::string::npos) << dump;
  EXPECT_EQ(Request(restarted_admin, boost::beast::http::verb::get, "/readyz").status, 200);
}

}  // namespace
}  // namespace llmesh::testing
