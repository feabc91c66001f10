#include "common/log/json_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>

#include "common/log/utf8.h"

namespace llmesh::log {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendTwoDigits(char* out, int v) {
  out[0] = static_cast<char>('0' + v / 10);
  out[1] = static_cast<char>('0' + v % 10);
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  size_t run_start = 0;
  size_t i = 0;
  // Copies runs of bytes that need no escaping in one append; most values are plain ASCII.
  const auto flush_run = [&] { out->append(s.data() + run_start, i - run_start); };
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const size_t len = Utf8SequenceLength(s, i);
      if (len != 0) {
        i += len;
        continue;
      }
      flush_run();
      out->append("\\ufffd");
      run_start = ++i;
      continue;
    }
    flush_run();
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default: {
        const char escape[] = {'\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 0xF]};
        out->append(escape, sizeof(escape));
      }
    }
    run_start = ++i;
  }
  flush_run();
  out->push_back('"');
}

void AppendJsonNumber(std::string* out, double v) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
}

void AppendJsonFixed(std::string* out, double v, int decimals) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  // Large enough for any double in fixed notation (up to ~309 integer digits) plus decimals.
  char buf[352];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, decimals);
  out->append(buf, res.ptr);
}

void AppendJsonNumber(std::string* out, int64_t v) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
}

void AppendJsonNumber(std::string* out, uint64_t v) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
}

void TimestampFormatter::Append(std::string* out, std::chrono::system_clock::time_point t) {
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  // Floor division keeps pre-1970 times well-formed (never a negative millisecond field).
  int64_t second = ms / 1000;
  int64_t millis = ms % 1000;
  if (millis < 0) {
    millis += 1000;
    --second;
  }
  if (second != cached_second_) {
    const std::time_t tt = static_cast<std::time_t>(second);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    // RFC 3339 has four-digit years; clamp rather than emit a malformed timestamp.
    const int year = std::clamp(tm.tm_year + 1900, 0, 9999);
    char* p = cached_prefix_;
    AppendTwoDigits(p, year / 100);
    AppendTwoDigits(p + 2, year % 100);
    p[4] = '-';
    AppendTwoDigits(p + 5, tm.tm_mon + 1);
    p[7] = '-';
    AppendTwoDigits(p + 8, tm.tm_mday);
    p[10] = 'T';
    AppendTwoDigits(p + 11, tm.tm_hour);
    p[13] = ':';
    AppendTwoDigits(p + 14, tm.tm_min);
    p[16] = ':';
    AppendTwoDigits(p + 17, tm.tm_sec);
    cached_second_ = second;
  }
  char tail[5] = {'.', '0', '0', '0', 'Z'};
  tail[1] = static_cast<char>('0' + millis / 100);
  AppendTwoDigits(tail + 2, static_cast<int>(millis % 100));
  out->append(cached_prefix_, 19);
  out->append(tail, sizeof(tail));
}

}  // namespace llmesh::log
