// llmesh-proxy: the llmesh sidecar.
//
//   llmesh-proxy [--config FILE] [--validate] [--workers N] [--log-level LEVEL]
//
// Without --config it runs the embedded default config (examples/default.yaml). The main
// thread loads and compiles configs and runs the admin listener and signal handling on its own
// io_context; N worker threads serve the proxy listener. SIGHUP reloads the file (an invalid
// file is logged and the old config keeps serving); SIGTERM/SIGINT drain in-flight requests for
// up to limits.drain_timeout, then exit.
//
// Threads: the main thread loads the config and then only waits for shutdown; the admin
// listener, signals and reloads run on one "main loop" thread; N workers serve the proxy.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <future>
#include <string>
#include <thread>

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

// Schema and semantic problems are reported together, so one run lists everything to fix.
absl::StatusOr<config::v1::Config> LoadConfig(const Flags& flags) {
  absl::StatusOr<config::PartialConfig> loaded =
      flags.config_path.empty() ? config::ParseConfigYamlPartial(kDefaultConfigYaml, config::ProcessEnv())
                                : config::LoadConfigFilePartial(flags.config_path, config::ProcessEnv());
  if (!loaded.ok()) return loaded.status();
  if (flags.workers) loaded->config.set_workers(*flags.workers);
  if (absl::Status valid = config::ValidateToStatus(*loaded, config::ProcessEnv()); !valid.ok()) return valid;
  return std::move(loaded->config);
}

// Loads, validates and compiles the config: at startup, for --validate and on SIGHUP.
absl::StatusOr<std::shared_ptr<const config::ConfigSnapshot>> LoadSnapshot(const Flags& flags,
                                                                          config::SharedState& shared) {
  absl::StatusOr<config::v1::Config> loaded = LoadConfig(flags);
  if (!loaded.ok()) return loaded.status();
  return config::ConfigSnapshot::Compile(*loaded, shared, config::ProcessEnv());
}

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
  absl::StatusOr<std::shared_ptr<const config::ConfigSnapshot>> snapshot = LoadSnapshot(flags, shared);
  if (!snapshot.ok()) {
    PrintConfigErrors(snapshot.status(), source);
    return 1;
  }
  const config::v1::Config* loaded = &(*snapshot)->source();
  if (flags.validate) {
    std::cout << config::Summary(*loaded) << "\n";
    return 0;
  }
  if (loaded->has_control_plane()) {
    Log(log::Level::kWarn, "control_plane is configured but not supported by this version; the file is the whole truth");
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

  listener::ListenerOptions listener_options;
  listener_options.listen = loaded->listen().empty() ? "127.0.0.1:4000" : loaded->listen();
  listener_options.workers = workers;
  listener_options.limits = (*snapshot)->limits();
  listener::ProxyListener proxy(listener_options, access_log.get(), SystemClock::Get());
  proxy.Publish(*snapshot);

  http::IoWorkers main_loop(1);
  // Registered before any listener is announced: a SIGHUP or SIGTERM that arrives once a
  // "listening" line is out is queued for the handler below instead of killing the process.
  boost::asio::signal_set signals(main_loop.context(0), SIGHUP, SIGTERM, SIGINT);
  admin::AdminHandler admin(shared, registry, SystemClock::Get());
  admin.SetSnapshot(*snapshot);
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
          absl::StatusOr<std::shared_ptr<const config::ConfigSnapshot>> compiled = LoadSnapshot(flags, shared);
          if (!compiled.ok()) {
            Log(log::Level::kError, "config reload rejected; the previous config keeps serving",
                {{"path", flags.config_path}, {"error", compiled.status().message()}});
          } else {
            const config::v1::Config& next = (*compiled)->source();
            if (next.listen() != loaded->listen() || next.admin_listen() != loaded->admin_listen() ||
                next.workers() != loaded->workers()) {
              Log(log::Level::kWarn, "listen, admin_listen and workers changes take effect after a restart");
            }
            proxy.Publish(*compiled);
            admin.SetSnapshot(*compiled);
            Log(log::Level::kInfo, "config reloaded", {{"version", (*compiled)->version()}});
          }
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
  // The main thread only orchestrates shutdown: servers stop and finish their connections
  // before the event loops they run on are stopped and destroyed.
  drained.get_future().wait();
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
