// Bridges std::string_view and absl::string_view.
//
// Debian's Abseil is built with its own string_view class (ABSL_OPTION_USE_STD_STRING_VIEW is
// 0), so the two do not convert implicitly. Use AbslView() when passing a std::string_view to
// an Abseil call (StrCat, StrSplit, SimpleAtoi, ...) and StdView() for the way back.
// Header-only; pure.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace llmesh {

inline absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view StdView(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace llmesh
