#include "tests/fakes/fake_provider/fake_provider.h"

#include <chrono>
#include <utility>

#include "common/status_macros.h"
#include "tests/fakes/fake_provider/anthropic_api.h"
#include "tests/fakes/fake_provider/gemini_api.h"
#include "tests/fakes/fake_provider/openai_api.h"

namespace llmesh::fakes {
namespace {

// How long Stop waits for cancelled handlers to unwind before stopping the workers anyway.
constexpr std::chrono::milliseconds kStopWait{2000};

}  // namespace

std::unique_ptr<FlavorApi> MakeFlavorApi(const FakeProviderOptions& options) {
  switch (options.flavor) {
    case Flavor::kAnthropic:
      return std::make_unique<AnthropicApi>(options);
    case Flavor::kGemini:
      return std::make_unique<GeminiApi>(options);
    case Flavor::kOpenAi:
      break;
  }
  return std::make_unique<OpenAiApi>(options);
}

FakeProvider::FakeProvider(FakeProviderOptions options) {
  if (options.workers == 0) options.workers = 1;
  state_ = std::make_unique<FakeState>(std::move(options));
  api_ = MakeFlavorApi(state_->options);
  workers_ = std::make_unique<http::IoWorkers>(state_->options.workers);
  for (size_t i = 0; i < workers_->size(); ++i) {
    handlers_.push_back(std::make_unique<FakeHandler>(*state_, *api_, i));
  }
  http::ServerOptions server_options;
  server_options.listen = state_->options.listen;
  server_options.name = "fake";
  if (!state_->options.tls_cert_file.empty() || !state_->options.tls_key_file.empty()) {
    server_options.tls =
        http::ServerTlsFiles{state_->options.tls_cert_file, state_->options.tls_key_file};
  }
  server_ = std::make_unique<http::HttpServer>(
      *workers_, server_options, [this](size_t i) -> http::Handler& { return *handlers_[i]; });
  state_->server = server_.get();
}

FakeProvider::~FakeProvider() { Stop(); }

absl::Status FakeProvider::Start() {
  LLMESH_RETURN_IF_ERROR(server_->Start());
  workers_->Start();
  running_ = true;
  return absl::OkStatus();
}

void FakeProvider::Stop() {
  if (!running_) return;
  running_ = false;
  server_->Stop();
  server_->WaitUntilStopped(kStopWait);
  workers_->Stop();
  workers_->Join();
}

absl::Status FakeProvider::SetScript(std::string_view json) {
  LLMESH_ASSIGN_OR_RETURN(FakeScript script, ParseFakeScript(json));
  LLMESH_RETURN_IF_ERROR(CheckScriptForFlavor(script, state_->options.flavor));
  state_->script.Replace(std::move(script));
  return absl::OkStatus();
}

}  // namespace llmesh::fakes
