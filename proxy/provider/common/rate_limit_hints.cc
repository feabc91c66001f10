#include "proxy/provider/common/rate_limit_hints.h"

#include <array>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "proxy/provider/common/json_fields.h"
#include "proxy/provider/common/text.h"

namespace llmesh::provider {
namespace {

using Millis = std::chrono::milliseconds;

Millis ToMillis(absl::Duration d) {
  const absl::Duration cap = absl::Milliseconds(kMaxRetryHint.count());
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  if (d > cap) d = cap;
  return Millis(absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1))));
}

void KeepLongest(std::optional<Millis>& best, absl::Duration d) {
  const Millis candidate = ToMillis(d);
  if (!best || candidate > *best) best = candidate;
}

std::string_view Header(const boost::beast::http::fields& headers, std::string_view name) {
  const auto it = headers.find(name);
  if (it == headers.end()) return {};
  const auto value = it->value();
  return StripWhitespace(std::string_view(value.data(), value.size()));
}

// "12", "1.5": an unsigned decimal number, nothing else (SimpleAtod alone would also take
// signs, exponents, "inf" and "nan").
std::optional<double> ParseDecimal(std::string_view text) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  bool dot = false;
  for (char c : text) {
    if (c == '.') {
      if (dot) return std::nullopt;
      dot = true;
    } else if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
  }
  if (text == ".") return std::nullopt;
  double value = 0;
  if (!absl::SimpleAtod(AbslView(text), &value)) return std::nullopt;
  return value;
}

// A Go/absl duration ("6m0s", "1h2m3s", "12ms", "2m59.56s"); negative or infinite is garbage.
std::optional<absl::Duration> ParseGoDuration(std::string_view text) {
  absl::Duration d;
  if (text.empty() || !absl::ParseDuration(AbslView(text), &d)) return std::nullopt;
  if (d < absl::ZeroDuration() || d == absl::InfiniteDuration()) return std::nullopt;
  return d;
}

// An x-ratelimit-reset-* value: Go duration (OpenAI, Groq) or plain seconds (Azure).
std::optional<absl::Duration> ParseResetValue(std::string_view text) {
  if (std::optional<double> seconds = ParseDecimal(text)) return absl::Seconds(*seconds);
  return ParseGoDuration(text);
}

std::optional<absl::Time> ParseHttpDate(std::string_view text) {
  // IMF-fixdate first; RFC 850 and asctime are the obsolete forms RFC 9110 still accepts.
  static constexpr std::array<const char*, 3> kFormats = {
      "%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"};
  for (const char* format : kFormats) {
    absl::Time t;
    std::string error;
    if (absl::ParseTime(format, AbslView(text), absl::UTCTimeZone(), &t, &error)) return t;
  }
  return std::nullopt;
}

// Reads a wait spoken in prose: "5.289s", "1m30s", "20 seconds", "12 ms".
std::optional<absl::Duration> ParseSpokenDuration(std::string_view text) {
  size_t end = 0;
  while (end < text.size() && (absl::ascii_isdigit(static_cast<unsigned char>(text[end])) ||
                               std::string_view(".hmsun").find(text[end]) != std::string_view::npos)) {
    ++end;
  }
  std::string_view token = text.substr(0, end);
  while (!token.empty() && token.back() == '.') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  if (std::optional<double> number = ParseDecimal(token)) {
    std::string_view rest = StripLeadingWhitespace(text.substr(end));
    size_t word_end = 0;
    while (word_end < rest.size() && absl::ascii_isalpha(static_cast<unsigned char>(rest[word_end]))) {
      ++word_end;
    }
    const std::string_view unit = rest.substr(0, word_end);
    if (unit == "ms" || unit.starts_with("millisecond")) return absl::Milliseconds(*number);
    if (unit == "m" || unit.starts_with("min")) return absl::Minutes(*number);
    if (unit == "h" || unit.starts_with("hour")) return absl::Hours(*number);
    return absl::Seconds(*number);
  }
  return ParseGoDuration(token);
}

}  // namespace

std::optional<std::chrono::milliseconds> RetryHint(const boost::beast::http::fields& headers,
                                                   absl::Time now, int http_status) {
  std::optional<Millis> best;
  if (std::optional<double> ms = ParseDecimal(Header(headers, "retry-after-ms"))) {
    KeepLongest(best, absl::Milliseconds(*ms));
  }
  const std::string_view retry_after = Header(headers, "retry-after");
  if (std::optional<double> seconds = ParseDecimal(retry_after)) {
    KeepLongest(best, absl::Seconds(*seconds));
  } else if (std::optional<absl::Time> date = ParseHttpDate(retry_after)) {
    KeepLongest(best, *date - now);
  }

  struct ResetPair {
    std::string_view reset;
    std::string_view remaining;
  };
  static constexpr std::array<ResetPair, 2> kOpenAi = {{
      {"x-ratelimit-reset-requests", "x-ratelimit-remaining-requests"},
      {"x-ratelimit-reset-tokens", "x-ratelimit-remaining-tokens"},
  }};
  for (const ResetPair& pair : kOpenAi) {
    if (Header(headers, pair.remaining) != "0") continue;
    if (std::optional<absl::Duration> d = ParseResetValue(Header(headers, pair.reset))) {
      KeepLongest(best, *d);
    }
  }

  static constexpr std::array<ResetPair, 4> kAnthropic = {{
      {"anthropic-ratelimit-requests-reset", "anthropic-ratelimit-requests-remaining"},
      {"anthropic-ratelimit-tokens-reset", "anthropic-ratelimit-tokens-remaining"},
      {"anthropic-ratelimit-input-tokens-reset", "anthropic-ratelimit-input-tokens-remaining"},
      {"anthropic-ratelimit-output-tokens-reset", "anthropic-ratelimit-output-tokens-remaining"},
  }};
  for (const ResetPair& pair : kAnthropic) {
    if (http_status != 429 && Header(headers, pair.remaining) != "0") continue;
    const std::string_view reset = Header(headers, pair.reset);
    if (reset.empty()) continue;
    absl::Time at;
    std::string error;
    if (absl::ParseTime(absl::RFC3339_full, AbslView(reset), &at, &error)) KeepLongest(best, at - now);
  }
  return best;
}

std::optional<std::chrono::milliseconds> RetryInfoHint(const boost::json::object& error) {
  const boost::json::array* details = ArrayField(error, "details");
  if (details == nullptr) return std::nullopt;
  for (const boost::json::value& detail : *details) {
    const boost::json::object* object = detail.if_object();
    if (object == nullptr || !StringField(*object, "@type").ends_with("google.rpc.RetryInfo")) {
      continue;
    }
    if (std::optional<absl::Duration> d = ParseGoDuration(StringField(*object, "retryDelay"))) {
      return ToMillis(*d);
    }
    // Non-JSON-mapped encodings spell the Duration as {seconds, nanos}.
    if (const boost::json::object* delay = ObjectField(*object, "retryDelay")) {
      const std::optional<int64_t> seconds = IntField(*delay, "seconds");
      const std::optional<int64_t> nanos = IntField(*delay, "nanos");
      if (seconds || nanos) {
        return ToMillis(absl::Seconds(seconds.value_or(0)) + absl::Nanoseconds(nanos.value_or(0)));
      }
    }
  }
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> MessageRetryHint(std::string_view message) {
  const std::string lower = ToLower(message);
  for (std::string_view phrase : {"try again in ", "retry after ", "retry in "}) {
    const size_t at = lower.find(phrase);
    if (at == std::string::npos) continue;
    const std::string_view rest = std::string_view(lower).substr(at + phrase.size());
    if (std::optional<absl::Duration> d = ParseSpokenDuration(rest)) return ToMillis(*d);
  }
  return std::nullopt;
}

}  // namespace llmesh::provider
