// The fake provider's OpenAI flavor: serves /v1/chat/completions (stream and not),
// /v1/embeddings and /v1/models with deterministic content, applies the fault-injection script
// and x-fake-* overrides, and serves the /_fake/* control endpoints.
//
// Threading: one OpenAiHandler per worker, used only on that worker's thread. Shared state
// (script, counters, last request) lives in FakeState and is safe across workers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "common/http/server.h"
#include "tests/fakes/fake_provider/fake_script.h"
#include "tests/fakes/fake_provider/fake_state.h"
#include "tests/fakes/fake_provider/openai_render.h"

namespace llmesh::fakes {

class OpenAiHandler final : public http::Handler {
 public:
  // `state` and `renderer` must outlive the handler.
  OpenAiHandler(FakeState& state, const OpenAiRenderer& renderer, size_t worker);

  asio::awaitable<void> Handle(http::Request& request, http::ResponseWriter& writer) override;
  http::Response Reject(boost::beast::http::status status, std::string_view reason) override;

 private:
  enum class Endpoint { kChat, kEmbeddings, kModels, kUnknown };
  // What this request gets: the script (if it applies) with header overrides, and whether
  // the failure part of it applies (fail_probability).
  struct Plan {
    FakeScript script;
    bool fail = false;
  };

  asio::awaitable<void> HandleControl(std::string_view path, http::Request& request,
                                      http::ResponseWriter& writer);
  absl::StatusOr<Plan> MakePlan(const http::Request& request);
  asio::awaitable<void> Serve(Endpoint endpoint, const http::Request& request,
                              http::ResponseWriter& writer, const Plan& plan,
                              std::string_view request_id);
  asio::awaitable<void> ServeChatStream(http::ResponseWriter& writer, const Plan& plan,
                                        const ChatCompletionShape& shape);
  // Sends a successful body, or its scripted corruption (malformed, reset, error event).
  asio::awaitable<void> SendBody(http::ResponseWriter& writer, const Plan& plan,
                                 std::string_view request_id, std::string body);
  asio::awaitable<void> SendError(http::ResponseWriter& writer, const Plan* plan,
                                  std::string_view request_id, int status, std::string_view message,
                                  std::string_view type, std::string_view code);

  // Adds x-request-id, the rate-limit headers for 200 and 429, and the plan's extra headers
  // when its failure part applies.
  void AddHeaders(boost::beast::http::fields& fields, std::string_view request_id, int status,
                  const Plan* plan) const;
  std::string NextRequestId();

  FakeState& state_;
  const OpenAiRenderer& renderer_;
  const size_t worker_;
  const std::string expected_authorization_;
  uint64_t sequence_ = 0;
  absl::BitGen random_;
  // This worker's copy of the current script, refreshed when the store's version changes.
  uint64_t script_version_ = 0;
  std::shared_ptr<const FakeScript> script_;
};

}  // namespace llmesh::fakes
