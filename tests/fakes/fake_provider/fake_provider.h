// llmesh-fake-provider as a library: a fast, scriptable emulator of a provider's HTTP API
// (OpenAI, Anthropic or Gemini flavor, FakeProviderOptions::flavor) for integration tests, the
// demo and benchmarks. Tests may run it in-process; the binary (main.cc) wraps it with a
// command line.
//
// Endpoints: the flavor's chat, embeddings and models routes (openai_api.h, anthropic_api.h,
// gemini_api.h); control: POST /_fake/script, POST /_fake/reset, GET /_fake/stats. See
// tests/fakes/fake_provider/README.md for the script and x-fake-* header semantics.
//
// Threading: Start/Stop from the owning thread; SetScript/Reset/StatsJson from any thread.
// The fake runs its own worker threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/http/io_workers.h"
#include "common/http/server.h"
#include "tests/fakes/fake_provider/fake_api.h"
#include "tests/fakes/fake_provider/fake_handler.h"
#include "tests/fakes/fake_provider/fake_options.h"
#include "tests/fakes/fake_provider/fake_state.h"

namespace llmesh::fakes {

// The API of `options.flavor`; `options` must outlive it.
std::unique_ptr<FlavorApi> MakeFlavorApi(const FakeProviderOptions& options);

class FakeProvider {
 public:
  explicit FakeProvider(FakeProviderOptions options);
  // Stops the fake if it runs.
  ~FakeProvider();

  FakeProvider(const FakeProvider&) = delete;
  FakeProvider& operator=(const FakeProvider&) = delete;

  // Binds (printing the "listening" line with listener "fake") and starts the workers.
  // INVALID_ARGUMENT for a bad listen address, UNAVAILABLE if binding fails.
  absl::Status Start();
  // Closes every connection, waits (bounded) for in-flight handlers and joins the workers.
  // Idempotent.
  void Stop();

  uint16_t port() const { return server_->port(); }
  std::string address() const { return server_->address(); }

  // Same as POST /_fake/script with `json`; INVALID_ARGUMENT for a bad script or one the
  // flavor cannot play.
  absl::Status SetScript(std::string_view json);
  // Same as POST /_fake/reset.
  void Reset() { state_->Reset(); }
  // Same as GET /_fake/stats.
  std::string StatsJson() const { return state_->StatsJson(); }

 private:
  std::unique_ptr<FakeState> state_;
  std::unique_ptr<FlavorApi> api_;
  std::unique_ptr<http::IoWorkers> workers_;
  std::vector<std::unique_ptr<FakeHandler>> handlers_;
  std::unique_ptr<http::HttpServer> server_;
  bool running_ = false;
};

}  // namespace llmesh::fakes
