// The llmesh-control under load in the control-plane load harness (bench/control_load.cc):
// either a process the harness starts (from the build's bin directory, on a fresh SQLite store
// in a temporary directory, with a bootstrap file and a generated admin token), or one that
// already runs and is named by address (and pid, for its resource figures).
//
// It offers the few admin calls the harness needs (each with the bearer token and a deadline)
// and samples the process's memory, threads, descriptors and CPU time from /proc.
//
// Threading: one thread drives it (the harness's main thread).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "llmesh/admin/v1/admin.grpc.pb.h"
#include "llmesh/config/v1/config.pb.h"
#include "tests/fakes/process_harness.h"

namespace llmesh::bench {

// One reading of /proc/<pid>: VmRSS and VmHWM in KiB, threads, open descriptors, and user +
// system CPU time consumed so far.
struct ProcessSample {
  uint64_t rss_kib = 0;
  uint64_t hwm_kib = 0;
  int threads = 0;
  int fds = 0;
  double cpu_seconds = 0;
};

// NOT_FOUND when the process is gone, INTERNAL when /proc cannot be parsed. `fds` is -1 when
// the descriptors cannot be listed (another user's process).
absl::StatusOr<ProcessSample> SampleProcess(pid_t pid);

// The providers and routes of `config` as a bootstrap YAML file (the config file's shape),
// limited to the fields the harness sets: provider name, kind, base_url, api_key_env, model
// names; route name, model, strategy, targets (provider, model, priority, weight).
std::string BootstrapYaml(const llmesh::config::v1::Config& config);

class ControlPlane {
 public:
  // Starts `binary` on 127.0.0.1 port 0 (gRPC and HTTP) with `--store sqlite:<dir>/control.db`,
  // `--bootstrap <dir>/bootstrap.yaml` (written from `bootstrap`) and a random admin token, and
  // waits up to `timeout` for its gRPC "listening" line. Errors: those of ChildProcess::Start,
  // the file write, or the wait (the process's output is in the message).
  static absl::StatusOr<std::unique_ptr<ControlPlane>> Spawn(
      const std::string& binary, const std::string& dir,
      const llmesh::config::v1::Config& bootstrap, std::chrono::milliseconds timeout);

  // Uses the llmesh-control at `address` ("host:port") with admin token `token`; `pid`, when
  // known, enables the resource figures.
  static std::unique_ptr<ControlPlane> Connect(std::string address, std::optional<pid_t> pid,
                                               std::string token);

  ~ControlPlane();

  const std::string& address() const { return address_; }
  std::optional<pid_t> pid() const { return pid_; }
  bool spawned() const { return process_ != nullptr; }

  // Admin calls, each with a 30 s deadline; errors are the gRPC status as an absl::Status
  // whose message names the call.
  absl::StatusOr<std::string> RouteConfigurationVersion();
  absl::Status ApplyProvider(const llmesh::config::v1::Provider& provider);
  absl::StatusOr<llmesh::admin::v1::ApplyRouteResponse> ApplyRoute(
      const llmesh::config::v1::Route& route);
  // Sidecars whose node id starts with `prefix`, connected, SYNCED, and running route
  // configuration `version`.
  absl::StatusOr<size_t> CountSynced(std::string_view prefix, const std::string& version);
  // Attempts in the telemetry window over the targets of `route` (GetHealth), and the number
  // of sidecars reporting.
  struct WindowCount {
    uint64_t attempts = 0;
    uint32_t reporting_sidecars = 0;
  };
  absl::StatusOr<WindowCount> Window(const std::string& route);

  // Output lines of a spawned process containing `needle` (0 for a connected one).
  size_t CountLogLines(std::string_view needle);

  // Spawned process only: SIGTERM, then waits up to `timeout` for it to exit; returns the exit
  // code (DEADLINE_EXCEEDED if it does not exit in time). OK with 0 for a connected one.
  absl::StatusOr<int> Stop(std::chrono::milliseconds timeout);

 private:
  ControlPlane(std::string address, std::optional<pid_t> pid, std::string token,
               std::unique_ptr<testing::ChildProcess> process);
  std::unique_ptr<grpc::ClientContext> Context() const;

  const std::string address_;
  const std::optional<pid_t> pid_;
  const std::string token_;
  std::unique_ptr<testing::ChildProcess> process_;
  std::unique_ptr<llmesh::admin::v1::AdminService::Stub> admin_;
};

}  // namespace llmesh::bench
