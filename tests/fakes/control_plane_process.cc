#include "tests/fakes/control_plane_process.h"

#include <gtest/gtest.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace llmesh::testing {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kStartTimeout{20000};
constexpr milliseconds kCtlTimeout{20000};
constexpr char kTokenVariable[] = "LLMESH_TEST_ADMIN_TOKEN";
constexpr char kRoutesType[] = "llmesh.discovery.v1.RouteConfiguration";

}  // namespace

std::unique_ptr<ControlPlaneProcess> ControlPlaneProcess::Start(const ScopedTempDir& dir,
                                                                std::string_view bootstrap_yaml,
                                                                std::vector<std::string> extra_args,
                                                                std::string grpc_listen) {
  std::vector<std::string> args = {
      "--store", absl::StrCat("sqlite:", dir.path(), "/store.db"), "--grpc-listen", std::move(grpc_listen),
      "--http-listen", "127.0.0.1:0", "--bootstrap", dir.WriteFile("bootstrap.yaml", bootstrap_yaml),
      "--admin-token-env", kTokenVariable};
  args.insert(args.end(), std::make_move_iterator(extra_args.begin()),
              std::make_move_iterator(extra_args.end()));
  absl::StatusOr<std::unique_ptr<ChildProcess>> process =
      ChildProcess::Start(BinaryPath("llmesh-control"), std::move(args), {{kTokenVariable, kToken}});
  if (!process.ok()) {
    ADD_FAILURE() << "llmesh-control: " << process.status();
    return nullptr;
  }
  std::unique_ptr<ControlPlaneProcess> control(new ControlPlaneProcess);
  control->process_ = *std::move(process);
  absl::StatusOr<uint16_t> grpc = control->process_->WaitForListening("grpc", kStartTimeout);
  absl::StatusOr<uint16_t> http = control->process_->WaitForListening("http", kStartTimeout);
  if (!grpc.ok() || !http.ok()) {
    ADD_FAILURE() << "llmesh-control did not start: " << control->process_->Output();
    return nullptr;
  }
  control->grpc_port_ = *grpc;
  control->http_port_ = *http;
  control->admin_ = llmesh::admin::v1::AdminService::NewStub(
      grpc::CreateChannel(control->address(), grpc::InsecureChannelCredentials()));
  return control;
}

std::string ControlPlaneProcess::address() const { return absl::StrCat("127.0.0.1:", grpc_port_); }

std::unique_ptr<grpc::ClientContext> ControlPlaneProcess::Context(std::string_view token) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", absl::StrCat("Bearer ", std::string(token)));
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

CtlRun ControlPlaneProcess::Ctl(std::vector<std::string> args, std::string token) const {
  args.insert(args.begin(), {"--server", address()});
  CtlRun run;
  absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::Start(
      BinaryPath("llmeshctl"), std::move(args), {{"LLMESH_ADMIN_TOKEN", std::move(token)}});
  EXPECT_TRUE(process.ok()) << process.status();
  if (!process.ok()) return run;
  run.exit_code = (*process)->WaitExit(kCtlTimeout);
  run.lines = (*process)->Lines();
  return run;
}

std::map<std::string, llmesh::admin::v1::Sidecar> ControlPlaneProcess::Sidecars() {
  std::map<std::string, llmesh::admin::v1::Sidecar> out;
  llmesh::admin::v1::ListSidecarsResponse listed;
  if (!admin_->ListSidecars(Context().get(), {}, &listed).ok()) return out;
  for (const llmesh::admin::v1::Sidecar& sidecar : listed.sidecars()) out[sidecar.node().id()] = sidecar;
  return out;
}

bool ControlPlaneProcess::WaitForSidecars(
    const std::function<bool(const std::map<std::string, llmesh::admin::v1::Sidecar>&)>& done,
    milliseconds timeout) {
  // The control plane has no change feed for tests: its sidecar list is polled.
  return WaitFor([&] { return done(Sidecars()); }, timeout);
}

llmesh::admin::v1::SidecarTypeState ControlPlaneProcess::RoutesState(
    const llmesh::admin::v1::Sidecar& sidecar) {
  for (const llmesh::admin::v1::SidecarTypeState& type : sidecar.types()) {
    if (type.type_url() == kRoutesType) return type;
  }
  return {};
}

}  // namespace llmesh::testing
