// llmesh-proxy: the llmesh sidecar.
//
//   llmesh-proxy [--config FILE] [--validate] [--workers N] [--log-level LEVEL]
//
// Without --config it runs the embedded default config (examples/default.yaml). The main
// thread loads and compiles configs and runs the admin listener and signal handling on its own
// io_context; N worker threads serve the proxy listener. SIGHUP reloads the file (an invalid
// file is logged and the old config keeps serving); SIGTERM/SIGINT drain in-flight requests for
// up to limits.drain_timeout, then exit. With `control_plane` configured, the discovery client
// (proxy/xds) replaces the file's providers and routes with what llmesh-control pushes, the
// routers pick targets with the global weights it pushes, the telemetry reporter sends every
// attempt's outcome back, and the proxy boots from the last acknowledged push kept in
// `control_plane.state_dir`.
//
// Threads: the main thread loads the config and then only waits for shutdown; the admin
// listener, signals and every config change (reloads and pushes) run on one "main loop"
// thread; N workers serve the proxy; the discovery client and the telemetry reporter have a
// thread each.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl_view.h"
#include "common/config/loader.h"
#include "common/config/validate.h"
#include "common/http/server.h"
#include "common/log/access_log.h"
#include "common/log/log.h"
#include "common/metrics/llmesh_metrics.h"
#include "proxy/admin/admin.h"
#include "proxy/config/config_snapshot.h"
#include "proxy/config/default_config.h"
#include "proxy/listener/listener.h"
#include "proxy/startup_memory.h"
#include "proxy/xds/discovery_client.h"
#include "proxy/xds/global_weights.h"
#include "proxy/xds/state_dir.h"
#include "proxy/xds/telemetry_reporter.h"

namespace llmesh {
namespace {

constexpr std::string_view kUsage =
    "usage: llmesh-proxy [--config FILE] [--validate] [--workers N] [--log-level debug|info|warn|error]\n"
    "  --config FILE   YAML config (default: the embedded default config)\n"
    "  --validate      check the config, print every error with its field path, and exit\n"
    "  --workers N     worker threads (overrides `workers`; 0 = one per core)\n";

struct Flags {
  std::string config_path;
  bool validate = false;
  std::optional<uint32_t> workers;
  log::Level log_level = log::Level::kInfo;
};

std::optional<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::optional<std::string_view> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string_view(argv[++i]);
    };
    if (arg == "--config") {
      auto v = value();
      if (!v) return std::nullopt;
      flags.config_path = std::string(*v);
    } else if (arg == "--validate") {
      flags.validate = true;
    } else if (arg == "--workers") {
      auto v = value();
      uint32_t n = 0;
      if (!v || !absl::SimpleAtoi(AbslView(*v), &n)) return std::nullopt;
      flags.workers = n;
    } else if (arg == "--log-level") {
      auto v = value();
      std::optional<log::Level> level = v ? log::ParseLevel(*v) : std::nullopt;
      if (!level) return std::nullopt;
      flags.log_level = *level;
    } else {
      return std::nullopt;
    }
  }
  return flags;
}

// Reads the config file (or the embedded default) with the --workers override applied. Schema
// problems stay in the PartialConfig, so that validation reports them with the semantic ones.
absl::StatusOr<config::PartialConfig> ReadConfig(const Flags& flags) {
  absl::StatusOr<config::PartialConfig> loaded =
      flags.config_path.empty() ? config::ParseConfigYamlPartial(kDefaultConfigYaml, config::ProcessEnv())
                                : config::LoadConfigFilePartial(flags.config_path, config::ProcessEnv());
  if (loaded.ok() && flags.workers) loaded->config.set_workers(*flags.workers);
  return loaded;
}

// The route configuration kept in state_dir, when the control plane is configured and one is
// kept; nullopt otherwise (a corrupt or unreadable file is logged and ignored).
std::optional<xds::VersionedRoutes> RestoreRoutes(const config::v1::Config& file) {
  if (!file.has_control_plane() || file.control_plane().state_dir().empty()) return std::nullopt;
  absl::StatusOr<xds::VersionedRoutes> kept = xds::LoadRouteConfiguration(file.control_plane().state_dir());
  if (kept.ok()) return *std::move(kept);
  if (kept.status().code() != absl::StatusCode::kNotFound) {
    Log(log::Level::kWarn, "ignoring state_dir; starting from the file", {{"error", kept.status().message()}});
  }
  return std::nullopt;
}

// The one way a config goes live once the proxy runs, for a SIGHUP reload and for a
// control-plane push: the file's config, with its providers and routes replaced by the pushed
// route configuration when there is one, is validated and compiled as a whole
// (config::ValidateAndCompile, as at start-up), then handed to the workers and the admin
// handler. On error the previous snapshot keeps serving. Main-loop thread only.
class ConfigSwitch {
 public:
  ConfigSwitch(config::SharedState& shared, listener::ProxyListener& proxy, admin::AdminHandler& admin,
               config::v1::Config file, std::optional<discovery::v1::RouteConfiguration> routes)
      : shared_(shared), proxy_(proxy), admin_(admin), file_(std::move(file)), routes_(std::move(routes)) {}

  absl::StatusOr<std::shared_ptr<const config::ConfigSnapshot>> Activate(
      config::PartialConfig file, std::optional<discovery::v1::RouteConfiguration> routes) {
    config::PartialConfig combined{routes ? xds::CombineConfig(file.config, *routes) : file.config, file.errors};
    absl::StatusOr<std::shared_ptr<const config::ConfigSnapshot>> compiled =
        config::ValidateAndCompile(combined, shared_, config::ProcessEnv());
    if (!compiled.ok()) return compiled.status();
    proxy_.Publish(*compiled);
    admin_.SetSnapshot(*compiled);
    file_ = std::move(file.config);
    routes_ = std::move(routes);
    return compiled;
  }

  const config::v1::Config& file() const { return file_; }
  const std::optional<discovery::v1::RouteConfiguration>& routes() const { return routes_; }

 private:
  config::SharedState& shared_;
  listener::ProxyListener& proxy_;
  admin::AdminHandler& admin_;
  config::v1::Config file_;
  std::optional<discovery::v1::RouteConfiguration> routes_;
};

// Runs control-plane pushes through the ConfigSwitch on the main loop, where every config change
// happens, and blocks the discovery client's thread until it is done.
class MainLoopActivator final : public xds::ConfigActivator {
 public:
  MainLoopActivator(boost::asio::io_context& main_loop, ConfigSwitch& config_switch)
      : main_loop_(main_loop), config_switch_(config_switch) {}

  absl::Status Activate(const discovery::v1::RouteConfiguration& routes) override {
    std::promise<absl::Status> done;
    boost::asio::post(main_loop_, [&] {
      absl::StatusOr<std::shared_ptr<const config::ConfigSnapshot>> compiled =
          config_switch_.Activate(config::PartialConfig{config_switch_.file(), {}}, routes);
      if (compiled.ok()) Log(log::Level::kInfo, "config pushed", {{"version", (*compiled)->version()}});
      done.set_value(compiled.status());
    });
    return done.get_future().get();
  }

 private:
  boost::asio::io_context& main_loop_;
  ConfigSwitch& config_switch_;
};

// Prints one error per line, as the operator needs them to fix the file.
void PrintConfigErrors(const absl::Status& status, std::string_view source) {
  std::cerr << "llmesh-proxy: invalid config " << source << ":\n";
  for (absl::string_view line : absl::StrSplit(status.message(), '\n')) std::cerr << "  " << line << "\n";
}

int Run(const Flags& flags) {
  log::SetMinLevel(flags.log_level);
  const std::string source = flags.config_path.empty() ? "(embedded default)" : flags.config_path;
  metrics::Registry& registry = metrics::DefaultRegistry();
  metrics::ProxyMetrics proxy_metrics(registry);
  config::SharedState shared(proxy_metrics);
  absl::StatusOr<config::PartialConfig> file = ReadConfig(flags);
  if (absl::Status valid = file.ok() ? config::ValidateToStatus(*file, config::ProcessEnv()) : file.status();
      !valid.ok()) {
    PrintConfigErrors(valid, source);
    return 1;
  }
  // A sidecar restarted while the control plane is away serves what it last acknowledged.
  std::optional<xds::VersionedRoutes> restored = flags.validate ? std::nullopt : RestoreRoutes(file->config);
  absl::StatusOr<std::shared_ptr<const config::ConfigSnapshot>> snapshot = absl::UnknownError("not compiled");
  if (restored) {
    snapshot = config::ValidateAndCompile({xds::CombineConfig(file->config, restored->routes), {}}, shared,
                                          config::ProcessEnv());
    if (snapshot.ok()) {
      Log(log::Level::kInfo, "booted from state_dir",
          {{"version", restored->version}, {"state_dir", file->config.control_plane().state_dir()}});
    } else {
      Log(log::Level::kWarn, "state_dir config refused; starting from the file",
          {{"error", snapshot.status().message()}});
      restored.reset();
    }
  }
  if (!restored) snapshot = config::ConfigSnapshot::Compile(file->config, shared, config::ProcessEnv());
  if (!snapshot.ok()) {
    PrintConfigErrors(snapshot.status(), source);
    return 1;
  }
  const config::v1::Config* loaded = &(*snapshot)->source();
  if (flags.validate) {
    std::cout << config::Summary(*loaded) << "\n";
    return 0;
  }

  const std::string access_log_path = loaded->access_log().path().empty() ? "-" : loaded->access_log().path();
  const size_t workers = loaded->workers() > 0 ? loaded->workers() : std::max(1u, std::thread::hardware_concurrency());
  std::unique_ptr<log::AccessLog> access_log;
  if (access_log_path != "off") {
    absl::StatusOr<std::unique_ptr<log::AccessLog>> opened = log::AccessLog::Open(access_log_path, workers);
    if (!opened.ok()) {
      std::cerr << "llmesh-proxy: access_log.path: " << opened.status().message() << "\n";
      return 1;
    }
    access_log = *std::move(opened);
  }

  // Published by the discovery client, read by every worker's router.
  xds::GlobalWeights global_weights;
  listener::ListenerOptions listener_options;
  listener_options.listen = loaded->listen().empty() ? "127.0.0.1:4000" : loaded->listen();
  listener_options.workers = workers;
  if (loaded->has_listen_tls()) {
    listener_options.tls =
        http::ServerTlsFiles{loaded->listen_tls().cert_file(), loaded->listen_tls().key_file()};
  }
  listener_options.limits = (*snapshot)->limits();
  listener_options.global_weights = &global_weights;
  listener_options.record_telemetry = loaded->has_control_plane();
  listener::ProxyListener proxy(listener_options, access_log.get(), SystemClock::Get());
  proxy.Publish(*snapshot);

  http::IoWorkers main_loop(1);
  // Registered before any listener is announced: a SIGHUP or SIGTERM that arrives once a
  // "listening" line is out is queued for the handler below instead of killing the process.
  boost::asio::signal_set signals(main_loop.context(0), SIGHUP, SIGTERM, SIGINT);
  admin::AdminHandler admin(shared, registry, SystemClock::Get(), &global_weights);
  admin.SetSnapshot(*snapshot);
  ConfigSwitch config_switch(shared, proxy, admin, file->config,
                             restored ? std::optional(restored->routes) : std::nullopt);
  MainLoopActivator activator(main_loop.context(0), config_switch);
  std::unique_ptr<xds::DiscoveryClient> discovery;
  std::unique_ptr<xds::TelemetryReporter> telemetry;
  if (loaded->has_control_plane()) {
    xds::DiscoveryClientOptions options;
    options.address = loaded->control_plane().address();
    options.node = xds::MakeNode(loaded->control_plane(), config::ProcessEnv());
    options.state_dir = loaded->control_plane().state_dir();
    options.initial_route_version = restored ? restored->version : "";
    xds::TelemetryReporterOptions telemetry_options;
    telemetry_options.address = options.address;
    telemetry_options.node = options.node;
    std::vector<xds::TelemetrySource> sources;
    for (size_t i = 0; i < proxy.workers(); ++i) sources.push_back({&proxy.worker_context(i), proxy.telemetry(i)});
    discovery = std::make_unique<xds::DiscoveryClient>(std::move(options), activator, global_weights,
                                                       SystemClock::Get());
    telemetry = std::make_unique<xds::TelemetryReporter>(std::move(telemetry_options), std::move(sources));
  }
  http::ServerOptions admin_options;
  admin_options.listen = loaded->admin_listen().empty() ? "127.0.0.1:9901" : loaded->admin_listen();
  admin_options.name = "admin";
  http::HttpServer admin_server(main_loop, admin_options, [&](size_t) -> http::Handler& { return admin; });

  if (absl::Status s = proxy.Start(); !s.ok()) {
    Log(log::Level::kError, "cannot start the proxy listener", {{"error", s.message()}});
    return 1;
  }
  if (absl::Status s = admin_server.Start(); !s.ok()) {
    Log(log::Level::kError, "cannot start the admin listener", {{"error", s.message()}});
    proxy.Stop();
    return 1;
  }
  admin.SetReady(true);
  Log(log::Level::kInfo, "config active", {{"version", (*snapshot)->version()}, {"source", source}});

  config::Limits limits = (*snapshot)->limits();
  std::function<void()> wait_signal;
  std::atomic<bool> stopping{false};
  std::promise<void> drained;  // set once, by the proxy listener's drain callback
  wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        if (flags.config_path.empty()) {
          Log(log::Level::kWarn, "SIGHUP ignored: running the embedded default config");
        } else {
          absl::StatusOr<config::PartialConfig> reread = ReadConfig(flags);
          // Pushed providers and routes survive a reload: only the file's own parts change.
          absl::StatusOr<std::shared_ptr<const config::ConfigSnapshot>> compiled =
              reread.ok() ? config_switch.Activate(*std::move(reread), config_switch.routes()) : reread.status();
          if (!compiled.ok()) {
            Log(log::Level::kError, "config reload rejected; the previous config keeps serving",
                {{"path", flags.config_path}, {"error", compiled.status().message()}});
          } else {
            const config::v1::Config& next = (*compiled)->source();
            if (next.listen() != loaded->listen() || next.admin_listen() != loaded->admin_listen() ||
                next.listen_tls().SerializeAsString() != loaded->listen_tls().SerializeAsString() ||
                next.workers() != loaded->workers() ||
                next.control_plane().SerializeAsString() != loaded->control_plane().SerializeAsString()) {
              Log(log::Level::kWarn,
                  "listen, listen_tls, admin_listen, workers and control_plane changes take effect after a restart");
            }
            Log(log::Level::kInfo, "config reloaded", {{"version", (*compiled)->version()}});
          }
          // Loading ran the start-up code again; its pages need not stay resident.
          ReleaseStartupMemory();
        }
        wait_signal();
        return;
      }
      if (stopping.exchange(true)) return;
      Log(log::Level::kInfo, "draining", {{"in_flight_connections", static_cast<uint64_t>(proxy.active_connections())}});
      admin.SetReady(false);
      proxy.Drain(limits.drain_timeout, [&] { drained.set_value(); });
    });
  };
  wait_signal();
  main_loop.Start();
  if (discovery) {
    discovery->Start();
    telemetry->Start();
    Log(log::Level::kInfo, "control plane client started", {{"address", loaded->control_plane().address()}});
  }
  const StartupMemoryReleased released = ReleaseStartupMemory();
  Log(log::Level::kDebug, "start-up memory released",
      {{"code_bytes", static_cast<uint64_t>(released.code_bytes)},
       {"allocator_bytes", static_cast<uint64_t>(released.allocator_bytes)}});
  // The main thread only orchestrates shutdown: servers stop and finish their connections
  // before the event loops they run on are stopped and destroyed.
  drained.get_future().wait();
  // While the workers still run: the last report collects what they recorded since the one
  // before it.
  if (telemetry) telemetry->Stop();
  // Before the main loop stops: a push being applied waits for it.
  if (discovery) discovery->Stop();
  admin_server.Stop();
  admin_server.WaitUntilStopped(std::chrono::seconds(5));
  main_loop.Stop();
  main_loop.Join();
  proxy.Stop();
  if (access_log) access_log->Flush();
  Log(log::Level::kInfo, "stopped");
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
  return llmesh::Run(*flags);
}
