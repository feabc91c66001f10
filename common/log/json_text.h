// Small, allocation-aware JSON text builders shared by the operational log and the access log.
//
// Both logs write one JSON object per line and must never emit a line a strict JSON parser
// rejects: strings are escaped per RFC 8259 and invalid UTF-8 is replaced by U+FFFD; non-finite
// numbers become `null`. Every function appends to a caller-owned std::string, so a caller that
// reuses its buffer (the access log's per-worker writer) allocates nothing once warmed up.
// Threading: pure functions, plus TimestampFormatter which is owned by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmesh::log {

// Appends `s` as a quoted JSON string. Escapes `"`, `\` and control characters (\b \f \n \r \t
// or \u00XX); replaces each byte that is not part of a well-formed UTF-8 sequence by \ufffd.
void AppendJsonString(std::string* out, std::string_view s);

// Appends the shortest decimal that round-trips `v` (e.g. 0.5, 1e-05, 42); `null` for NaN/Inf.
void AppendJsonNumber(std::string* out, double v);

// Appends `v` with exactly `decimals` digits after the point (e.g. 12.345); `null` for NaN/Inf.
// Precondition: 0 <= decimals <= 9.
void AppendJsonFixed(std::string* out, double v, int decimals);

void AppendJsonNumber(std::string* out, int64_t v);
void AppendJsonNumber(std::string* out, uint64_t v);

// Formats wall-clock times as RFC 3339 UTC with milliseconds, "2026-11-24T06:30:00.123Z"
// (unquoted). Caches the formatted second, so formatting within the same second costs a few
// digit writes and no gmtime call. Not thread-safe: one instance per thread.
class TimestampFormatter {
 public:
  void Append(std::string* out, std::chrono::system_clock::time_point t);

 private:
  int64_t cached_second_ = INT64_MIN;
  char cached_prefix_[19] = {};  // "YYYY-MM-DDTHH:MM:SS", not NUL-terminated
};

}  // namespace llmesh::log
