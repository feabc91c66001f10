#include "tests/fakes/fake_provider/fake_options.h"

#include <string>

namespace llmesh::fakes {

absl::StatusOr<Flavor> ParseFlavor(std::string_view text) {
  if (text == "openai") return Flavor::kOpenAi;
  if (text == "anthropic") return Flavor::kAnthropic;
  if (text == "gemini") return Flavor::kGemini;
  std::string message = "unsupported flavor \"";
  message.append(text).append("\" (supported: openai, anthropic, gemini)");
  return absl::InvalidArgumentError(message);
}

std::string_view FlavorName(Flavor flavor) {
  switch (flavor) {
    case Flavor::kOpenAi:
      return "openai";
    case Flavor::kAnthropic:
      return "anthropic";
    case Flavor::kGemini:
      return "gemini";
  }
  return "openai";
}

}  // namespace llmesh::fakes
