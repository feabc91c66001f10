// Operational logs: one JSON object per line on stderr, shared by every llmesh binary.
//
//   log::Log(log::Level::kInfo, "listening", {{"listener", "proxy"}, {"address", addr}});
//   -> {"ts":"2026-11-24T06:30:00.123Z","level":"info","msg":"listening","listener":"proxy",...}
//
// For rare events only (startup, listeners bound, config reloads, errors); per-request records
// go to the access log (access_log.h), never here. Each line is built in memory and handed to
// the kernel with a single write(2), so concurrent lines never interleave (lines up to PIPE_BUF
// bytes are atomic even on a pipe). Never log API keys, prompts or user ids.
//
// Threading: every function is safe to call from any thread. Log() allocates and makes a
// system call; on a worker, call it only on error paths.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "absl/strings/string_view.h"

namespace llmesh::log {

enum class Level : uint8_t { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// "debug", "info", "warn", "error".
std::string_view LevelName(Level level);

// Parses a level name as written by LevelName ("warning" is accepted for kWarn); nullopt
// otherwise. For `--log-level` flags.
std::optional<Level> ParseLevel(std::string_view name);

// Process-wide minimum level; lines below it are discarded. Default kInfo.
void SetMinLevel(Level level);
Level MinLevel();
inline bool Enabled(Level level);

// One extra key/value of a log line. Holds views: build Fields inside the Log() call
// expression (temporaries such as `status.ToString()` live until the call returns); never
// store a Field.
class Field {
 public:
  using Value = std::variant<std::string_view, int64_t, uint64_t, double, bool>;

  Field(std::string_view key, std::string_view value) : key_(key), value_(value) {}
  Field(std::string_view key, const char* value) : key_(key), value_(std::string_view(value)) {}
  // Status messages are absl::string_view, a distinct type in this Abseil.
  Field(std::string_view key, absl::string_view value)
      : key_(key), value_(std::string_view(value.data(), value.size())) {}
  Field(std::string_view key, const std::string& value)
      : key_(key), value_(std::string_view(value)) {}
  Field(std::string_view key, bool value) : key_(key), value_(value) {}
  Field(std::string_view key, double value) : key_(key), value_(value) {}
  template <std::signed_integral T>
    requires(!std::same_as<T, bool>)
  Field(std::string_view key, T value) : key_(key), value_(static_cast<int64_t>(value)) {}
  template <std::unsigned_integral T>
    requires(!std::same_as<T, bool>)
  Field(std::string_view key, T value) : key_(key), value_(static_cast<uint64_t>(value)) {}

  std::string_view key() const { return key_; }
  const Value& value() const { return value_; }

 private:
  std::string_view key_;
  Value value_;
};

// Writes one line if `level` >= MinLevel(). Keys "ts", "level" and "msg" come first; `fields`
// follow in the given order (a field reusing one of those keys is written as given, so avoid
// it). Write errors are ignored: there is nowhere left to report them.
void Log(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

// Logs at kError (regardless of MinLevel) and aborts. For broken invariants and programming
// errors only, never for bad input or failed I/O.
[[noreturn]] void Fatal(std::string_view msg, std::initializer_list<Field> fields = {});

// The exact line Log() would write for these arguments, including the trailing '\n'.
std::string FormatLine(std::chrono::system_clock::time_point ts, Level level,
                       std::string_view msg, std::initializer_list<Field> fields);

// Redirects log output to `fd` (default 2) and returns the previous fd. The caller keeps
// ownership of `fd` and must keep it open while lines may be written. For tests.
int SetOutputFdForTesting(int fd);

namespace internal {
// The minimum level as stored; read with relaxed ordering.
uint8_t MinLevelRaw();
}  // namespace internal

inline bool Enabled(Level level) {
  return static_cast<uint8_t>(level) >= internal::MinLevelRaw();
}

}  // namespace llmesh::log
