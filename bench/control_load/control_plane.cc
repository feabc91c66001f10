#include "bench/control_load/control_plane.h"

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl_view.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace llmesh::bench {
namespace {

namespace adminpb = ::llmesh::admin::v1;
namespace configpb = ::llmesh::config::v1;

constexpr char kTokenVariable[] = "LLMESH_CONTROL_LOAD_TOKEN";
constexpr auto kAdminDeadline = std::chrono::seconds(30);

absl::Status FromGrpc(std::string_view call, const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(AbslView(call), ": ", status.error_message()));
}

std::string RandomToken() {
  std::random_device random;
  std::string token;
  for (int i = 0; i < 4; ++i) absl::StrAppend(&token, absl::Hex(random(), absl::kZeroPad8));
  return token;
}

// "VmRSS:    12345 kB" -> 12345.
uint64_t StatusKib(const std::string& status, std::string_view key) {
  const size_t at = status.find(key);
  if (at == std::string::npos) return 0;
  std::istringstream in(status.substr(at + key.size()));
  uint64_t value = 0;
  in >> value;
  return value;
}

}  // namespace

absl::StatusOr<ProcessSample> SampleProcess(pid_t pid) {
  const std::string dir = absl::StrCat("/proc/", pid);
  std::ifstream status_file(dir + "/status");
  std::ifstream stat_file(dir + "/stat");
  if (!status_file || !stat_file) return absl::NotFoundError(absl::StrCat("no process ", pid));
  const std::string status((std::istreambuf_iterator<char>(status_file)), {});
  const std::string stat((std::istreambuf_iterator<char>(stat_file)), {});
  ProcessSample sample;
  sample.rss_kib = StatusKib(status, "VmRSS:");
  sample.hwm_kib = StatusKib(status, "VmHWM:");
  sample.threads = static_cast<int>(StatusKib(status, "Threads:"));
  // The command name may hold spaces: fields are counted after its closing parenthesis, where
  // utime and stime are the 12th and 13th.
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return absl::InternalError(absl::StrCat(dir, "/stat: no ')'"));
  const std::vector<std::string> fields =
      absl::StrSplit(stat.substr(paren + 2), ' ', absl::SkipEmpty());
  uint64_t utime = 0;
  uint64_t stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::InternalError(absl::StrCat(dir, "/stat: cannot read utime and stime"));
  }
  sample.cpu_seconds =
      static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::error_code ec;
  int fds = 0;
  for (auto it = std::filesystem::directory_iterator(dir + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  sample.fds = ec ? -1 : fds;
  return sample;
}

std::string BootstrapYaml(const configpb::Config& config) {
  std::string yaml = "providers:\n";
  for (const configpb::Provider& p : config.providers()) {
    absl::StrAppend(&yaml, "  - name: ", p.name(), "\n    kind: ",
                    absl::AsciiStrToLower(configpb::Provider::Kind_Name(p.kind())),
                    "\n    base_url: ", p.base_url(), "\n    api_key_env: ", p.api_key_env(),
                    "\n    models:\n");
    for (const configpb::Model& m : p.models()) absl::StrAppend(&yaml, "      - name: ", m.name(), "\n");
  }
  absl::StrAppend(&yaml, "routes:\n");
  for (const configpb::Route& r : config.routes()) {
    absl::StrAppend(&yaml, "  - name: ", r.name(), "\n    model: ", r.model(), "\n    strategy: ",
                    absl::AsciiStrToLower(configpb::Route::Strategy_Name(r.strategy())),
                    "\n    targets:\n");
    for (const configpb::Target& t : r.targets()) {
      absl::StrAppend(&yaml, "      - {provider: ", t.provider(), ", model: ", t.model(),
                      ", priority: ", t.priority());
      if (t.has_weight()) absl::StrAppend(&yaml, ", weight: ", t.weight());
      absl::StrAppend(&yaml, "}\n");
    }
  }
  return yaml;
}

ControlPlane::ControlPlane(std::string address, std::optional<pid_t> pid, std::string token,
                           std::unique_ptr<testing::ChildProcess> process)
    : address_(std::move(address)),
      pid_(pid),
      token_(std::move(token)),
      process_(std::move(process)),
      admin_(adminpb::AdminService::NewStub(
          grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()))) {}

ControlPlane::~ControlPlane() = default;

absl::StatusOr<std::unique_ptr<ControlPlane>> ControlPlane::Spawn(
    const std::string& binary, const std::string& dir, const configpb::Config& bootstrap,
    std::chrono::milliseconds timeout) {
  const std::string bootstrap_path = dir + "/bootstrap.yaml";
  {
    std::ofstream out(bootstrap_path, std::ios::trunc);
    out << BootstrapYaml(bootstrap);
    out.close();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", bootstrap_path));
  }
  std::string token = RandomToken();
  absl::StatusOr<std::unique_ptr<testing::ChildProcess>> process = testing::ChildProcess::Start(
      binary,
      {"--grpc-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--store",
       absl::StrCat("sqlite:", dir, "/control.db"), "--bootstrap", bootstrap_path,
       "--admin-token-env", kTokenVariable},
      {{kTokenVariable, token}});
  if (!process.ok()) return process.status();
  absl::StatusOr<uint16_t> port = (*process)->WaitForListening("grpc", timeout);
  if (!port.ok()) {
    return absl::Status(port.status().code(), absl::StrCat(port.status().message(), "; output:\n",
                                                           (*process)->Output()));
  }
  const pid_t pid = (*process)->pid();
  return std::unique_ptr<ControlPlane>(new ControlPlane(absl::StrCat("127.0.0.1:", *port), pid,
                                                        std::move(token), *std::move(process)));
}

std::unique_ptr<ControlPlane> ControlPlane::Connect(std::string address, std::optional<pid_t> pid,
                                                    std::string token) {
  return std::unique_ptr<ControlPlane>(
      new ControlPlane(std::move(address), pid, std::move(token), nullptr));
}

std::unique_ptr<grpc::ClientContext> ControlPlane::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  context->set_deadline(std::chrono::system_clock::now() + kAdminDeadline);
  return context;
}

absl::StatusOr<std::string> ControlPlane::RouteConfigurationVersion() {
  adminpb::ListRoutesResponse response;
  const grpc::Status status = admin_->ListRoutes(Context().get(), {}, &response);
  if (!status.ok()) return FromGrpc("ListRoutes", status);
  return response.route_configuration_version();
}

absl::Status ControlPlane::ApplyProvider(const configpb::Provider& provider) {
  adminpb::ApplyProviderRequest request;
  *request.mutable_provider() = provider;
  adminpb::ApplyProviderResponse response;
  return FromGrpc("ApplyProvider", admin_->ApplyProvider(Context().get(), request, &response));
}

absl::StatusOr<adminpb::ApplyRouteResponse> ControlPlane::ApplyRoute(const configpb::Route& route) {
  adminpb::ApplyRouteRequest request;
  *request.mutable_route() = route;
  adminpb::ApplyRouteResponse response;
  const grpc::Status status = admin_->ApplyRoute(Context().get(), request, &response);
  if (!status.ok()) return FromGrpc("ApplyRoute", status);
  return response;
}

absl::StatusOr<size_t> ControlPlane::CountSynced(std::string_view prefix,
                                                 const std::string& version) {
  adminpb::ListSidecarsRequest request;
  request.set_status(adminpb::SYNCED);
  adminpb::ListSidecarsResponse response;
  const grpc::Status status = admin_->ListSidecars(Context().get(), request, &response);
  if (!status.ok()) return FromGrpc("ListSidecars", status);
  size_t synced = 0;
  for (const adminpb::Sidecar& sidecar : response.sidecars()) {
    if (!sidecar.connected() || !std::string_view(sidecar.node().id()).starts_with(prefix)) continue;
    for (const adminpb::SidecarTypeState& type : sidecar.types()) {
      if (type.type_url() == "llmesh.discovery.v1.RouteConfiguration" &&
          type.applied_version() == version) {
        ++synced;
      }
    }
  }
  return synced;
}

absl::StatusOr<ControlPlane::WindowCount> ControlPlane::Window(const std::string& route) {
  adminpb::GetHealthRequest request;
  request.set_route(route);
  adminpb::GetHealthResponse response;
  const grpc::Status status = admin_->GetHealth(Context().get(), request, &response);
  if (!status.ok()) return FromGrpc("GetHealth", status);
  WindowCount count;
  count.reporting_sidecars = response.reporting_sidecars();
  for (const adminpb::RouteHealth& health : response.routes()) {
    if (health.route() != route) continue;
    for (const adminpb::TargetHealth& target : health.targets()) count.attempts += target.attempts();
  }
  return count;
}

size_t ControlPlane::CountLogLines(std::string_view needle) {
  if (process_ == nullptr) return 0;
  size_t count = 0;
  for (const std::string& line : process_->Lines()) {
    if (line.find(needle) != std::string::npos) ++count;
  }
  return count;
}

absl::StatusOr<int> ControlPlane::Stop(std::chrono::milliseconds timeout) {
  if (process_ == nullptr) return 0;
  process_->Signal(SIGTERM);
  std::optional<int> code = process_->WaitExit(timeout);
  if (!code.has_value()) {
    return absl::DeadlineExceededError(
        absl::StrCat("llmesh-control did not exit within ", timeout.count(), " ms of SIGTERM"));
  }
  return *code;
}

}  // namespace llmesh::bench
