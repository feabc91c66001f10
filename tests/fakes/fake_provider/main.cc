// llmesh-fake-provider: a scriptable provider API emulator for tests, the demo and benchmarks.
//
//   llmesh-fake-provider --listen 127.0.0.1:0 [--workers N] [--name NAME]
//                        [--flavor openai|anthropic|gemini] [--api-key KEY] [--models a,b,c]
//                        [--tls-cert FILE --tls-key FILE]
//
// Serves HTTP/1.1 and h2c (prior knowledge) on the plain port; with --tls-cert/--tls-key, TLS
// only, h2 or HTTP/1.1 as the client's ALPN picks.
//
// Prints {"msg":"listening","listener":"fake","address":...} on stderr once bound; exits 0 on
// SIGTERM or SIGINT, 2 on a usage error, 1 if it cannot listen.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tests/fakes/fake_provider/fake_provider.h"

namespace {

constexpr std::string_view kUsage =
    "usage: llmesh-fake-provider [--listen HOST:PORT] [--workers N] [--name NAME]\n"
    "                            [--flavor openai|anthropic|gemini] [--api-key KEY]\n"
    "                            [--models a,b,c] [--tls-cert FILE --tls-key FILE]\n";

int UsageError(std::string_view message) {
  std::fprintf(stderr, "llmesh-fake-provider: %.*s\n%.*s", static_cast<int>(message.size()),
               message.data(), static_cast<int>(kUsage.size()), kUsage.data());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  llmesh::fakes::FakeProviderOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      return 0;
    }
    std::string_view value;
    size_t equals = arg.find('=');
    if (arg.starts_with("--") && equals != std::string_view::npos) {
      value = arg.substr(equals + 1);
      arg = arg.substr(0, equals);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return UsageError(std::string(arg) + " needs a value");
    }
    if (arg == "--listen") {
      options.listen = std::string(value);
    } else if (arg == "--workers") {
      if (!absl::SimpleAtoi(absl::string_view(value.data(), value.size()), &options.workers) ||
          options.workers == 0 || options.workers > 256) {
        return UsageError("--workers must be within 1..256");
      }
    } else if (arg == "--name") {
      options.name = std::string(value);
    } else if (arg == "--flavor") {
      absl::StatusOr<llmesh::fakes::Flavor> flavor = llmesh::fakes::ParseFlavor(value);
      if (!flavor.ok()) return UsageError(std::string(flavor.status().message()));
      options.flavor = *flavor;
    } else if (arg == "--api-key") {
      options.api_key = std::string(value);
    } else if (arg == "--tls-cert") {
      options.tls_cert_file = std::string(value);
    } else if (arg == "--tls-key") {
      options.tls_key_file = std::string(value);
    } else if (arg == "--models") {
      options.models =
          absl::StrSplit(absl::string_view(value.data(), value.size()), ',', absl::SkipEmpty());
    } else {
      return UsageError("unknown flag " + std::string(arg));
    }
  }

  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return UsageError("--tls-cert and --tls-key go together");
  }

  // Block the stop signals in every thread (workers inherit the mask) and take them
  // synchronously below, so no handler runs in signal context.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // A client that disconnects mid-write must not kill the process.
  signal(SIGPIPE, SIG_IGN);

  llmesh::fakes::FakeProvider fake(std::move(options));
  absl::Status status = fake.Start();
  if (!status.ok()) {
    std::fprintf(stderr, "llmesh-fake-provider: %s\n", status.ToString().c_str());
    return 1;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  fake.Stop();
  return 0;
}
