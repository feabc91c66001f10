// control_load: N simulated sidecars against one llmesh-control on this machine (loopback).
//
//   control_load [--sidecars N] [--sidecars-per-channel M] [--changes K] [--routes R]
//                [--telemetry-seconds S] [--report-rate RPS] [--wait-seconds W] [--out FILE]
//                [--connect HOST:PORT [--control-pid PID] [--admin-token-env NAME]]
//                [--control-bin PATH] [--quick]
//
// Each sidecar holds a discovery and a telemetry stream (bench/control_load/). The run:
//  1. starts llmesh-control from the build's bin directory on a fresh store with R routes (or
//     uses the one at --connect, applying the harness's providers and routes to it);
//  2. opens every sidecar's streams and waits until all have ACKed the current routes;
//  3. K times: changes one route through the admin API and times how long until every sidecar
//     has ACKed the new version;
//  4. runs the telemetry load phase (every sidecar back to back, or --report-rate in total) and
//     counts the reports acked over a fixed window; checks GetHealth's window holds them all;
//  5. samples llmesh-control's VmRSS/VmHWM idle, with all streams open, and after telemetry;
//  6. closes every stream, stops llmesh-control (SIGTERM, exit 0 expected), prints a summary
//     and writes JSON (default bench/results/control-load-<UTC time>.json; none with --quick).
// Every wait has a deadline (--wait-seconds); any failure prints `control_load: error: ...` and
// exits 1. --quick (50 sidecars, 1 change, 2 s of telemetry) is the smoke test of `make test`.
// Threads: this one drives the run; the streams run on gRPC's own callback threads.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/control_load/control_plane.h"
#include "bench/control_load/load_result.h"
#include "bench/control_load/report_pool.h"
#include "bench/control_load/sidecar_fleet.h"
#include "common/absl_view.h"
#include "common/status_macros.h"
#include "llmesh/discovery/v1/discovery.pb.h"
#include "tests/fakes/process_harness.h"

namespace llmesh::bench {
namespace {

namespace configpb = ::llmesh::config::v1;
using std::chrono::duration;

constexpr char kUsage[] =
    "usage: control_load [--sidecars N] [--sidecars-per-channel M] [--changes K] [--routes R]\n"
    "                    [--telemetry-seconds S] [--report-rate RPS] [--wait-seconds W]\n"
    "                    [--out FILE] [--connect HOST:PORT [--control-pid PID]\n"
    "                    [--admin-token-env NAME]] [--control-bin PATH] [--quick]\n"
    "  --sidecars N              simulated sidecars (default 1000; --quick 50)\n"
    "  --sidecars-per-channel M  sidecars sharing one gRPC connection (default 1)\n"
    "  --changes K               route changes to time (default 5; --quick 1)\n"
    "  --routes R                routes in the configuration pushed (default 20)\n"
    "  --telemetry-seconds S     telemetry measurement window (default 10; --quick 2)\n"
    "  --report-rate RPS         telemetry reports/s in total; 0 = back to back (default 0)\n"
    "  --wait-seconds W          deadline of every wait (default 60)\n"
    "  --out FILE                JSON results (default bench/results/control-load-<UTC>.json)\n"
    "  --connect HOST:PORT       use a running llmesh-control instead of starting one\n"
    "  --control-pid PID         its pid, for the RSS and CPU figures\n"
    "  --admin-token-env NAME    variable holding its admin token (default LLMESH_ADMIN_TOKEN)\n"
    "  --control-bin PATH        llmesh-control to start (default: this build's)\n"
    "  --quick                   smoke run: 50 sidecars, 1 change, 2 s telemetry, no JSON\n";

constexpr char kLoadRoute[] = "control-load";
constexpr int kProviders = 4;
constexpr uint32_t kBaseWeight = 100;

struct Flags {
  size_t sidecars = 1000;
  size_t sidecars_per_channel = 1;
  int changes = 5;
  size_t routes = 20;
  double telemetry_seconds = 10;
  double warmup_seconds = 1;
  double report_rate = 0;
  double wait_seconds = 60;
  bool quick = false;
  std::string out;
  std::string connect;
  std::optional<pid_t> control_pid;
  std::string token_env = "LLMESH_ADMIN_TOKEN";
  std::string control_bin = testing::BinaryPath("llmesh-control");
};

std::optional<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--quick") {
      flags.quick = true;
      flags.sidecars = 50;
      flags.changes = 1;
      flags.telemetry_seconds = 2;
      flags.warmup_seconds = 0.5;
    }
  }
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") continue;
    if (i + 1 >= argc) return std::nullopt;
    const absl::string_view value = argv[++i];
    bool ok = true;
    int pid = 0;
    if (arg == "--sidecars") {
      ok = absl::SimpleAtoi(value, &flags.sidecars) && flags.sidecars > 0;
    } else if (arg == "--sidecars-per-channel") {
      ok = absl::SimpleAtoi(value, &flags.sidecars_per_channel) && flags.sidecars_per_channel > 0;
    } else if (arg == "--changes") {
      ok = absl::SimpleAtoi(value, &flags.changes) && flags.changes >= 0;
    } else if (arg == "--routes") {
      ok = absl::SimpleAtoi(value, &flags.routes) && flags.routes >= 1;
    } else if (arg == "--telemetry-seconds") {
      ok = absl::SimpleAtod(value, &flags.telemetry_seconds) && flags.telemetry_seconds >= 0;
    } else if (arg == "--report-rate") {
      ok = absl::SimpleAtod(value, &flags.report_rate) && flags.report_rate >= 0;
    } else if (arg == "--wait-seconds") {
      ok = absl::SimpleAtod(value, &flags.wait_seconds) && flags.wait_seconds > 0;
    } else if (arg == "--out") {
      flags.out = std::string(value);
    } else if (arg == "--connect") {
      flags.connect = std::string(value);
    } else if (arg == "--control-pid") {
      ok = absl::SimpleAtoi(value, &pid) && pid > 0;
      flags.control_pid = pid;
    } else if (arg == "--admin-token-env") {
      flags.token_env = std::string(value);
    } else if (arg == "--control-bin") {
      flags.control_bin = std::string(value);
    } else {
      ok = false;
    }
    if (!ok) return std::nullopt;
  }
  return flags;
}

// Four providers of two models each; route 0 (the one changed and reported on) spreads
// weighted over model-a of every provider, the others fail over between two providers' model-b.
configpb::Config BenchConfig(size_t routes) {
  static constexpr configpb::Provider::Kind kKinds[kProviders] = {
      configpb::Provider::OPENAI, configpb::Provider::ANTHROPIC, configpb::Provider::GEMINI,
      configpb::Provider::OPENAI_COMPATIBLE};
  configpb::Config config;
  for (int p = 0; p < kProviders; ++p) {
    configpb::Provider& provider = *config.add_providers();
    provider.set_name(absl::StrCat("bench-", p));
    provider.set_kind(kKinds[p]);
    provider.set_base_url("http://127.0.0.1:9/v1");
    provider.set_api_key_env(absl::StrCat("BENCH_", p, "_API_KEY"));
    provider.add_models()->set_name("model-a");
    provider.add_models()->set_name("model-b");
  }
  configpb::Route& load = *config.add_routes();
  load.set_name(kLoadRoute);
  load.set_model(kLoadRoute);
  load.set_strategy(configpb::Route::WEIGHTED);
  for (int p = 0; p < kProviders; ++p) {
    configpb::Target& target = *load.add_targets();
    target.set_provider(absl::StrCat("bench-", p));
    target.set_model("model-a");
    target.set_weight(kBaseWeight);
  }
  for (size_t r = 1; r < routes; ++r) {
    configpb::Route& route = *config.add_routes();
    route.set_name(absl::StrCat("route-", r));
    route.set_model(absl::StrCat("model-", r));
    route.set_strategy(configpb::Route::FAILOVER);
    for (size_t t = 0; t < 2; ++t) {
      configpb::Target& target = *route.add_targets();
      target.set_provider(absl::StrCat("bench-", (r + t) % kProviders));
      target.set_model("model-b");
      target.set_priority(static_cast<uint32_t>(t));
    }
  }
  return config;
}

// Change `k` (1-based) of the load route: its first target's weight moves, so every change has
// new content and a new version.
configpb::Route ChangedRoute(const configpb::Config& config, int k) {
  configpb::Route route = config.routes(0);
  route.mutable_targets(0)->set_weight(kBaseWeight + static_cast<uint32_t>(k));
  return route;
}

double Ms(SteadyClock::duration d) { return duration<double, std::milli>(d).count(); }

double HarnessCpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// 1,000 connections need more descriptors than the usual soft limit of 1,024, in this process
// and in the llmesh-control it starts (which inherits the limit).
absl::Status RaiseOpenFileLimit(size_t needed) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return absl::InternalError("getrlimit failed");
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return absl::InternalError("setrlimit failed");
  }
  if (limit.rlim_cur < needed) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "open-file limit ", limit.rlim_cur, " is below the ", needed,
        " descriptors needed; raise the hard limit (ulimit -Hn) or use --sidecars-per-channel"));
  }
  return absl::OkStatus();
}

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = absl::StrCat(base != nullptr && *base != '\0' ? base : "/tmp",
                                       "/control-load-XXXXXX");
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::optional<ProcessSample> Sample(const ControlPlane& control) {
  if (!control.pid().has_value()) return std::nullopt;
  absl::StatusOr<ProcessSample> sample = SampleProcess(*control.pid());
  if (!sample.ok()) return std::nullopt;
  return *sample;
}

absl::StatusOr<RouteChangeResult> TimeRouteChange(ControlPlane& control, SidecarFleet& fleet,
                                                  const configpb::Route& route,
                                                  std::string_view node_prefix,
                                                  SteadyClock::duration wait) {
  const SteadyTime sent = SteadyClock::now();
  LLMESH_ASSIGN_OR_RETURN(const llmesh::admin::v1::ApplyRouteResponse applied,
                          control.ApplyRoute(route));
  const SteadyTime acknowledged = SteadyClock::now();
  if (!applied.changed()) return absl::InternalError("ApplyRoute: route unchanged, nothing pushed");
  RouteChangeResult result;
  result.version = applied.route_configuration_version();
  result.apply_ms = Ms(acknowledged - sent);
  LLMESH_ASSIGN_OR_RETURN(const std::vector<SteadyTime> acks,
                          fleet.events().WaitForRouteAcks(result.version, acknowledged + wait));
  SteadyTime last = acks.front();
  std::vector<double> per_stream;
  per_stream.reserve(acks.size());
  for (const SteadyTime at : acks) {
    last = std::max(last, at);
    per_stream.push_back(Ms(at - sent));
  }
  result.all_acked_after_apply_ms = std::max(0.0, Ms(last - acknowledged));
  result.per_stream_ms = SpreadOf(std::move(per_stream));

  // The control plane's own view: every ACK recorded (what `llmeshctl sidecars` would show).
  const SteadyTime deadline = SteadyClock::now() + wait;
  for (int poll = 0; poll < 100'000; ++poll) {
    LLMESH_ASSIGN_OR_RETURN(const size_t synced, control.CountSynced(node_prefix, result.version));
    if (synced == acks.size()) {
      result.control_plane_synced_after_apply_ms = Ms(SteadyClock::now() - acknowledged);
      return result;
    }
    if (SteadyClock::now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat("ListSidecars shows ", synced, " of ",
                                                      acks.size(), " sidecars SYNCED on ",
                                                      result.version));
    }
    std::this_thread::yield();
  }
  return absl::DeadlineExceededError("ListSidecars never showed every sidecar SYNCED");
}

absl::StatusOr<TelemetryResult> RunTelemetry(const Flags& flags, ControlPlane& control,
                                             SidecarFleet& fleet, const ReportPool& pool,
                                             SteadyClock::duration wait) {
  TelemetryResult t;
  t.target_rate = flags.report_rate;
  t.window_seconds = flags.telemetry_seconds;
  t.report_bytes = pool.ReportBytes();
  t.targets_per_report = kProviders;
  const uint64_t attempts_before = fleet.events().attempts_acked();
  fleet.BeginReports(flags.report_rate);
  // A fixed measurement window after a warm-up, cut short by any stream failing.
  const auto seconds_from_now = [](double s) {
    return SteadyClock::now() +
           std::chrono::duration_cast<SteadyClock::duration>(duration<double>(s));
  };
  LLMESH_RETURN_IF_ERROR(fleet.events().WatchUntil(seconds_from_now(flags.warmup_seconds)));
  const std::optional<ProcessSample> cpu_before = Sample(control);
  const double harness_before = HarnessCpuSeconds();
  const uint64_t acked_before = fleet.events().reports_acked();
  const uint64_t window_attempts_before = fleet.events().attempts_acked();
  const SteadyTime start = SteadyClock::now();
  LLMESH_RETURN_IF_ERROR(fleet.events().WatchUntil(seconds_from_now(flags.telemetry_seconds)));
  const uint64_t acked_after = fleet.events().reports_acked();
  const uint64_t window_attempts_after = fleet.events().attempts_acked();
  const SteadyTime end = SteadyClock::now();
  const std::optional<ProcessSample> cpu_after = Sample(control);
  t.harness_cpu_seconds = HarnessCpuSeconds() - harness_before;
  LLMESH_RETURN_IF_ERROR(fleet.StopReports(SteadyClock::now() + wait));

  const double seconds = duration<double>(end - start).count();
  t.window_seconds = seconds;
  t.reports_acked = acked_after - acked_before;
  t.reports_per_second = static_cast<double>(t.reports_acked) / seconds;
  t.attempts_per_second = static_cast<double>(window_attempts_after - window_attempts_before) / seconds;
  t.round_trip_p50_us = fleet.events().RoundTripMicros(0.5);
  t.round_trip_p99_us = fleet.events().RoundTripMicros(0.99);
  if (cpu_before && cpu_after) {
    t.control_plane_cpu_seconds = cpu_after->cpu_seconds - cpu_before->cpu_seconds;
  }
  if (control.spawned()) {
    t.refused = control.CountLogLines("\"msg\":\"telemetry report refused\"");
  }
  t.attempts_sent = fleet.events().attempts_acked() - attempts_before;
  LLMESH_ASSIGN_OR_RETURN(const ControlPlane::WindowCount window, control.Window(kLoadRoute));
  t.window_attempts = window.attempts;
  t.reporting_sidecars = window.reporting_sidecars;
  if (t.refused.value_or(0) != 0) {
    return absl::InternalError(absl::StrCat("llmesh-control refused ", *t.refused, " reports"));
  }
  // A fresh store's 60 s window holds every report of a phase this short, and only ours.
  if (control.spawned() && flags.warmup_seconds + flags.telemetry_seconds < 45 &&
      t.window_attempts != t.attempts_sent) {
    return absl::InternalError(absl::StrCat("GetHealth's window holds ", t.window_attempts,
                                            " attempts; the acked reports carried ",
                                            t.attempts_sent));
  }
  return t;
}

std::string DefaultResultsPath() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  return testing::SourcePath(absl::StrCat("bench/results/control-load-", stamp, ".json"));
}

absl::Status Run(const Flags& flags) {
  const SteadyClock::duration wait =
      std::chrono::duration_cast<SteadyClock::duration>(duration<double>(flags.wait_seconds));
  const size_t connections =
      (flags.sidecars + flags.sidecars_per_channel - 1) / flags.sidecars_per_channel;
  LLMESH_RETURN_IF_ERROR(RaiseOpenFileLimit(connections + 256));

  LoadResult result;
  result.sidecars = flags.sidecars;
  result.connections = connections;
  result.routes = flags.routes;
  const configpb::Config config = BenchConfig(flags.routes);
  {
    llmesh::discovery::v1::RouteConfiguration pushed;
    *pushed.mutable_providers() = config.providers();
    *pushed.mutable_routes() = config.routes();
    result.route_configuration_bytes = pushed.ByteSizeLong();
  }

  TempDir dir;
  std::unique_ptr<ControlPlane> control;
  if (flags.connect.empty()) {
    if (dir.path().empty()) return absl::InternalError("cannot create a temporary directory");
    LLMESH_ASSIGN_OR_RETURN(control, ControlPlane::Spawn(flags.control_bin, dir.path(), config,
                                                         std::chrono::milliseconds(20'000)));
  } else {
    const char* token = std::getenv(flags.token_env.c_str());
    control = ControlPlane::Connect(flags.connect, flags.control_pid, token ? token : "");
    for (const configpb::Provider& provider : config.providers()) {
      LLMESH_RETURN_IF_ERROR(control->ApplyProvider(provider));
    }
    for (const configpb::Route& route : config.routes()) {
      LLMESH_RETURN_IF_ERROR(control->ApplyRoute(route).status());
    }
  }
  result.spawned = control->spawned();
  if (control->pid()) result.pid = static_cast<int>(*control->pid());
  LLMESH_ASSIGN_OR_RETURN(const std::string initial, control->RouteConfigurationVersion());
  result.idle = Sample(*control);

  const std::string node_prefix = absl::StrCat("control-load-", ::getpid(), "-");
  const ReportPool pool({{"bench-0", "model-a"}, {"bench-1", "model-a"}, {"bench-2", "model-a"},
                         {"bench-3", "model-a"}},
                        64, 1);
  SidecarFleet fleet({control->address(), flags.sidecars, flags.sidecars_per_channel, node_prefix},
                     pool);
  const SteadyTime opened = SteadyClock::now();
  fleet.Open();
  LLMESH_ASSIGN_OR_RETURN(const std::vector<SteadyTime> initial_acks,
                          fleet.events().WaitForRouteAcks(initial, opened + wait));
  result.open_all_acked_ms = Ms(*std::max_element(initial_acks.begin(), initial_acks.end()) - opened);
  LLMESH_RETURN_IF_ERROR(fleet.events().WaitForHellos(SteadyClock::now() + wait));
  result.streams_open = Sample(*control);
  std::cerr << "control_load: " << flags.sidecars << " sidecars connected and synced\n";

  for (int k = 1; k <= flags.changes; ++k) {
    absl::StatusOr<RouteChangeResult> change =
        TimeRouteChange(*control, fleet, ChangedRoute(config, k), node_prefix, wait);
    if (!change.ok()) {
      return absl::Status(change.status().code(), absl::StrCat("route change ", k, ": ",
                                                               change.status().message()));
    }
    result.changes.push_back(*std::move(change));
  }

  if (flags.telemetry_seconds > 0) {
    LLMESH_ASSIGN_OR_RETURN(result.telemetry, RunTelemetry(flags, *control, fleet, pool, wait));
  }
  if (result.telemetry.has_value()) result.after_telemetry = Sample(*control);
  LLMESH_RETURN_IF_ERROR(fleet.events().failure());

  LLMESH_RETURN_IF_ERROR(fleet.Close(SteadyClock::now() + wait));
  LLMESH_ASSIGN_OR_RETURN(const int exit_code, control->Stop(std::chrono::milliseconds(15'000)));
  if (exit_code != 0) {
    return absl::InternalError(absl::StrCat("llmesh-control exited with ", exit_code));
  }

  PrintSummary(result, std::cout);
  const std::string out = !flags.out.empty() ? flags.out : flags.quick ? "" : DefaultResultsPath();
  if (!out.empty()) {
    std::ofstream file(out, std::ios::trunc);
    file << ToJson(result);
    file.close();
    if (!file) return absl::InternalError(absl::StrCat("cannot write ", out));
    std::cout << "results: " << out << "\n";
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace llmesh::bench

int main(int argc, char** argv) {
  const std::optional<llmesh::bench::Flags> flags = llmesh::bench::ParseFlags(argc, argv);
  if (!flags.has_value()) {
    std::cerr << llmesh::bench::kUsage;
    return 2;
  }
  const absl::Status status = llmesh::bench::Run(*flags);
  if (!status.ok()) {
    std::cerr << "control_load: error: " << status << "\n";
    return 1;
  }
  return 0;
}
