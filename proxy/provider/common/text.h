// ASCII text helpers over std::string_view for the provider layer (Abseil calls go through
// common/absl_view.h). Header-only; pure; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "common/absl_view.h"

namespace llmesh::provider {

inline std::string_view StripLeadingWhitespace(std::string_view s) {
  return StdView(absl::StripLeadingAsciiWhitespace(AbslView(s)));
}
inline std::string_view StripTrailingWhitespace(std::string_view s) {
  return StdView(absl::StripTrailingAsciiWhitespace(AbslView(s)));
}
inline std::string_view StripWhitespace(std::string_view s) {
  return StdView(absl::StripAsciiWhitespace(AbslView(s)));
}

inline std::string ToLower(std::string_view s) { return absl::AsciiStrToLower(AbslView(s)); }

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(a[i])) !=
        absl::ascii_tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

inline bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (EqualsIgnoreCase(haystack.substr(i, needle.size()), needle)) return true;
  }
  return needle.empty();
}

}  // namespace llmesh::provider
