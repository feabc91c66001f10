// llmesh-control: the llmesh control plane.
//
//   llmesh-control --store sqlite:PATH [--grpc-listen HOST:PORT] [--http-listen HOST:PORT]
//                  [--bootstrap FILE] [--admin-token-env NAME] [--log-level LEVEL]
//                  [weight and telemetry tuning flags, see kUsage]
//
// Threads: the main thread parses flags, starts the ControlServer and then waits for SIGTERM or
// SIGINT with sigwait (both are blocked in every thread, so none of gRPC's or the HTTP
// listener's threads receives them); gRPC serves on its own threads, the HTTP status listener
// on one more.
#include <pthread.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/config/scalar.h"
#include "common/log/log.h"
#include "common/metrics/registry.h"
#include "controlplane/server/control_server.h"

namespace llmesh {
namespace {

constexpr std::string_view kUsage =
    "usage: llmesh-control --store sqlite:PATH [--grpc-listen HOST:PORT] [--http-listen HOST:PORT]\n"
    "                      [--bootstrap FILE] [--admin-token-env NAME] [--log-level LEVEL]\n"
    "  --store sqlite:PATH     the SQLite store (created if missing; its directory must exist)\n"
    "  --grpc-listen HOST:PORT discovery, telemetry and admin gRPC (default 127.0.0.1:15010)\n"
    "  --http-listen HOST:PORT /healthz /readyz /metrics (default 127.0.0.1:15014)\n"
    "  --bootstrap FILE        providers and routes (config file shape) imported on first start\n"
    "  --admin-token-env NAME  environment variable holding the admin API's bearer token\n"
    "  --log-level LEVEL       debug, info, warn or error (default info)\n"
    "weights and telemetry (durations as in the config file: 500ms, 5s, 1m30s):\n"
    "  --report-interval D     how often sidecars report telemetry (default 5s)\n"
    "  --window D              sliding window of telemetry weights are computed over (default 60s)\n"
    "  --weight-interval D     how often weights are recomputed (default 5s)\n"
    "  --weight-ttl D          how long sidecars keep a weight assignment (default 60s)\n"
    "  --min-samples N         requests a target needs in the window to be judged (default 50)\n"
    "  --probe-floor F         share kept by a target breaching its SLO (default 0.02)\n";

constexpr std::string_view kSqliteScheme = "sqlite:";

// Headroom for a few thousand sidecars (one connection each, carrying both their discovery and
// telemetry streams); below it a mesh of that size runs out of descriptors.
constexpr rlim_t kWantedOpenFiles = 4096;

// Each sidecar holds a connection open for as long as it runs, so the soft limit on open files
// (often 1024) would cap the mesh long before memory or CPU does; the hard limit is the most an
// unprivileged process may take.
void RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    log::Log(log::Level::kWarn, "cannot read the open file limit", {{"errno", int64_t{errno}}});
    return;
  }
  if (limit.rlim_cur < limit.rlim_max) {
    const rlim_t previous = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      log::Log(log::Level::kWarn, "cannot raise the open file limit",
               {{"errno", int64_t{errno}}, {"soft", uint64_t{previous}}});
      limit.rlim_cur = previous;
    }
  }
  if (limit.rlim_cur == RLIM_INFINITY) {
    log::Log(log::Level::kInfo, "open file limit", {{"soft", "unlimited"}});
    return;
  }
  log::Log(log::Level::kInfo, "open file limit", {{"soft", uint64_t{limit.rlim_cur}}});
  if (limit.rlim_cur < kWantedOpenFiles) {
    log::Log(log::Level::kWarn,
             "open file limit is low: each sidecar holds one connection, so at most this many "
             "sidecars can connect (raise the hard limit: ulimit -Hn, systemd LimitNOFILE=)",
             {{"soft", uint64_t{limit.rlim_cur}}, {"wanted", uint64_t{kWantedOpenFiles}}});
  }
}

// The window's slot (its expiry granularity): 5 s, or the whole window when it is shorter.
constexpr Duration kLongestSlot = std::chrono::seconds(5);

std::optional<Duration> ParseDuration(std::string_view flag, std::string_view value) {
  absl::StatusOr<absl::Duration> parsed = config::ParseConfigDuration(value);
  if (!parsed.ok() || *parsed <= absl::ZeroDuration()) {
    std::cerr << flag << ": \"" << value << "\" is not a positive duration\n";
    return std::nullopt;
  }
  return std::chrono::duration_cast<Duration>(absl::ToChronoNanoseconds(*parsed));
}

template <typename Number>
std::optional<Number> ParseNumber(std::string_view flag, std::string_view value, Number low,
                                  Number high) {
  Number number{};
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, number);
  if (ec != std::errc() || ptr != end || number < low || number > high) {
    std::cerr << flag << ": \"" << value << "\" is not a number in [" << low << ", " << high
              << "]\n";
    return std::nullopt;
  }
  return number;
}

struct Flags {
  control::ControlServerOptions server;
  std::string admin_token_env;
  log::Level log_level = log::Level::kInfo;
};

std::optional<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  bool have_store = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) return std::nullopt;  // every flag takes a value
    const std::string_view value = argv[++i];
    if (arg == "--grpc-listen") {
      flags.server.grpc_listen = std::string(value);
    } else if (arg == "--http-listen") {
      flags.server.http_listen = std::string(value);
    } else if (arg == "--store") {
      if (!value.starts_with(kSqliteScheme) || value.size() == kSqliteScheme.size()) {
        std::cerr << "llmesh-control: --store must be sqlite:PATH, got \"" << value << "\"\n";
        return std::nullopt;
      }
      flags.server.store_path = std::string(value.substr(kSqliteScheme.size()));
      have_store = true;
    } else if (arg == "--bootstrap") {
      flags.server.bootstrap_path = std::string(value);
    } else if (arg == "--admin-token-env") {
      flags.admin_token_env = std::string(value);
    } else if (arg == "--report-interval") {
      std::optional<Duration> d = ParseDuration(arg, value);
      if (!d) return std::nullopt;
      flags.server.report_interval = *d;
    } else if (arg == "--window") {
      std::optional<Duration> d = ParseDuration(arg, value);
      if (!d) return std::nullopt;
      flags.server.telemetry.window = *d;
      flags.server.telemetry.slot = std::min(*d, kLongestSlot);
    } else if (arg == "--weight-interval") {
      std::optional<Duration> d = ParseDuration(arg, value);
      if (!d) return std::nullopt;
      flags.server.weights.interval = *d;
    } else if (arg == "--weight-ttl") {
      std::optional<Duration> d = ParseDuration(arg, value);
      if (!d) return std::nullopt;
      flags.server.weights.ttl = *d;
    } else if (arg == "--min-samples") {
      std::optional<uint64_t> n = ParseNumber<uint64_t>(arg, value, 1, 1'000'000'000);
      if (!n) return std::nullopt;
      flags.server.weights.weights.min_samples = *n;
    } else if (arg == "--probe-floor") {
      std::optional<double> f = ParseNumber<double>(arg, value, 0.0, 0.5);
      if (!f) return std::nullopt;
      flags.server.weights.weights.probe_floor = *f;
    } else if (arg == "--log-level") {
      std::optional<log::Level> level = log::ParseLevel(value);
      if (!level) return std::nullopt;
      flags.log_level = *level;
    } else {
      return std::nullopt;
    }
  }
  if (!have_store) return std::nullopt;
  return flags;
}

int Run(Flags flags) {
  log::SetMinLevel(flags.log_level);
  RaiseOpenFileLimit();
  if (!flags.admin_token_env.empty()) {
    const char* token = std::getenv(flags.admin_token_env.c_str());
    if (token == nullptr || *token == '\0') {
      log::Log(log::Level::kWarn, "admin token environment variable is not set or empty",
               {{"variable", flags.admin_token_env}});
    } else {
      flags.server.admin_token = token;
    }
  }

  // Blocked before any thread exists, so every thread inherits the mask and only sigwait
  // below ever sees these signals.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<std::unique_ptr<control::ControlServer>> server =
      control::ControlServer::Start(flags.server, metrics::DefaultRegistry());
  if (!server.ok()) {
    log::Log(log::Level::kError, "cannot start", {{"error", server.status().message()}});
    return 1;
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  log::Log(log::Level::kInfo, "shutting down", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*server)->Shutdown(absl::Seconds(5));
  server->reset();
  log::Log(log::Level::kInfo, "stopped");
  return 0;
}

}  // namespace
}  // namespace llmesh

int main(int argc, char** argv) {
  std::optional<llmesh::Flags> flags = llmesh::ParseFlags(argc, argv);
  if (!flags) {
    std::cerr << llmesh::kUsage;
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  return llmesh::Run(*std::move(flags));
}
