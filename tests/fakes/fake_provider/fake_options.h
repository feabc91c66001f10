// Options of the fake provider (the llmesh-fake-provider command line). Plain values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace llmesh::fakes {

// The provider API the fake speaks.
enum class Flavor { kOpenAi, kAnthropic, kGemini };

// "openai" → kOpenAi, "anthropic" → kAnthropic, "gemini" → kGemini; INVALID_ARGUMENT otherwise.
absl::StatusOr<Flavor> ParseFlavor(std::string_view text);
// The command-line spelling of `flavor` ("openai", ...).
std::string_view FlavorName(Flavor flavor);

struct FakeProviderOptions {
  std::string listen = "127.0.0.1:0";
  // Both set: serve TLS only, h2 and HTTP/1.1 by ALPN (PEM files, read at Start). Without them
  // the fake serves HTTP/1.1 and h2c (prior knowledge) on the plain port.
  std::string tls_cert_file;
  std::string tls_key_file;
  size_t workers = 1;
  // Prefix of the generated content ("<name>-0 <name>-1 ..."), owner of the listed models.
  std::string name = "fake";
  Flavor flavor = Flavor::kOpenAi;
  // Non-empty: API requests must carry this key in the flavor's credential header (else 401,
  // or Gemini's 400/403).
  std::string api_key;
  // Listed by the models endpoint; empty means {"fake-model"}.
  std::vector<std::string> models;
  // Wall clock for timestamps in bodies and headers (`created`, rate-limit resets). Tests pin
  // it; it is called from every worker, so it must be thread-safe.
  absl::Time (*now)() = &absl::Now;
};

}  // namespace llmesh::fakes
