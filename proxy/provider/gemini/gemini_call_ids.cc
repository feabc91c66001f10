#include "proxy/provider/gemini/gemini_call_ids.h"

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"

namespace llmesh::provider {

uint64_t CallIdSeed(std::string_view response_id) {
  // FNV-1a: stable across processes and builds (absl::Hash is salted per process), so the same
  // response always yields the same ids.
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : response_id) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

uint64_t RandomCallIdSeed() {
  // BitGen draws its seed from a shared, thread-safe entropy pool; constructing one per call is
  // cheap, and this runs only for responses without a responseId.
  absl::BitGen gen;
  return absl::Uniform<uint64_t>(gen);
}

std::string CanonicalCallId(std::string_view gemini_id, uint64_t seed, uint32_t ordinal) {
  if (!gemini_id.empty()) return absl::StrCat(AbslView(kGeminiGivenIdPrefix), AbslView(gemini_id));
  return absl::StrCat(AbslView(kGeminiSynthesizedIdPrefix), absl::Hex(seed, absl::kZeroPad16), "_",
                      ordinal);
}

std::string_view GeminiCallId(std::string_view canonical_id) {
  if (!canonical_id.starts_with(kGeminiGivenIdPrefix)) return {};
  return canonical_id.substr(kGeminiGivenIdPrefix.size());
}

std::string SynthesizedResponseId(uint64_t seed) {
  return absl::StrCat("gemini-", absl::Hex(seed, absl::kZeroPad16));
}

}  // namespace llmesh::provider
