// UTF-8 well-formedness checks shared by the JSON log writers and the metrics exposition
// (Prometheus rejects a whole scrape over one invalid label value, JSON parsers a whole line).
// Threading: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace llmesh::log {

// Length (2-4) of the well-formed multi-byte UTF-8 sequence starting at s[i], or 0 if the bytes
// there are not one (ASCII, stray continuation byte, overlong form, surrogate, code point above
// U+10FFFF, or truncated). Precondition: i < s.size().
size_t Utf8SequenceLength(std::string_view s, size_t i);

// `s` with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD.
std::string SanitizeUtf8(std::string_view s);

}  // namespace llmesh::log
