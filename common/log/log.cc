#include "common/log/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>

#include "common/log/json_text.h"

namespace llmesh::log {
namespace {

std::atomic<uint8_t> g_min_level{static_cast<uint8_t>(Level::kInfo)};
std::atomic<int> g_output_fd{STDERR_FILENO};

// One write(2) per line keeps lines whole; the loop only continues after a signal or a partial
// write, which the kernel does not do for lines up to PIPE_BUF on pipes or for regular files.
void WriteLine(const std::string& line) {
  const int fd = g_output_fd.load(std::memory_order_acquire);
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void AppendValue(std::string* out, const Field::Value& value) {
  struct Visitor {
    std::string* out;
    void operator()(std::string_view v) const { AppendJsonString(out, v); }
    void operator()(int64_t v) const { AppendJsonNumber(out, v); }
    void operator()(uint64_t v) const { AppendJsonNumber(out, v); }
    void operator()(double v) const { AppendJsonNumber(out, v); }
    void operator()(bool v) const { out->append(v ? "true" : "false"); }
  };
  std::visit(Visitor{out}, value);
}

}  // namespace

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "error";
}

std::optional<Level> ParseLevel(std::string_view name) {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn" || name == "warning") return Level::kWarn;
  if (name == "error") return Level::kError;
  return std::nullopt;
}

void SetMinLevel(Level level) {
  g_min_level.store(static_cast<uint8_t>(level), std::memory_order_relaxed);
}

Level MinLevel() { return static_cast<Level>(g_min_level.load(std::memory_order_relaxed)); }

uint8_t internal::MinLevelRaw() { return g_min_level.load(std::memory_order_relaxed); }

std::string FormatLine(std::chrono::system_clock::time_point ts, Level level,
                       std::string_view msg, std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(96 + msg.size() + fields.size() * 32);
  line.append("{\"ts\":\"");
  TimestampFormatter().Append(&line, ts);
  line.append("\",\"level\":\"");
  line.append(LevelName(level));
  line.append("\",\"msg\":");
  AppendJsonString(&line, msg);
  for (const Field& field : fields) {
    line.push_back(',');
    AppendJsonString(&line, field.key());
    line.push_back(':');
    AppendValue(&line, field.value());
  }
  line.append("}\n");
  return line;
}

void Log(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  WriteLine(FormatLine(std::chrono::system_clock::now(), level, msg, fields));
}

void Fatal(std::string_view msg, std::initializer_list<Field> fields) {
  WriteLine(FormatLine(std::chrono::system_clock::now(), Level::kError, msg, fields));
  std::abort();
}

int SetOutputFdForTesting(int fd) { return g_output_fd.exchange(fd, std::memory_order_acq_rel); }

}  // namespace llmesh::log
