#include "tests/fakes/fake_provider/fake_render.h"

#include <charconv>
#include <ctime>

#include "absl/strings/str_cat.h"

namespace llmesh::fakes {
namespace {

constexpr std::string_view kHex = "0123456789abcdef";

uint64_t Fnv1a(std::string_view text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

void AppendDigits(int64_t value, int width, char* out) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

void AppendJsonEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20) {
      out.append("\\u00");
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    } else {
      out.push_back(c);
    }
  }
}

AnswerText::AnswerText(std::string_view name) {
  AppendJsonEscaped(escaped_name_, name);
  for (int64_t i = 0; i < kPreparedPieces; ++i) {
    ends_[static_cast<size_t>(i)] = static_cast<uint32_t>(prepared_.size());
    absl::StrAppend(&prepared_, escaped_name_, "-", i, " ");
  }
  ends_[kPreparedPieces] = static_cast<uint32_t>(prepared_.size());
}

ToolCallText::ToolCallText(std::string_view name, std::string_view arguments_json)
    : arguments(arguments_json) {
  AppendJsonEscaped(escaped_name, name);
  AppendJsonEscaped(arguments_literal, arguments);
  size_t cut = arguments.size() / 2;
  while (cut > 0 && (static_cast<unsigned char>(arguments[cut]) & 0xc0) == 0x80) --cut;
  const std::string_view text = arguments;
  AppendJsonEscaped(fragments[0], text.substr(0, cut));
  AppendJsonEscaped(fragments[1], text.substr(cut));
}

void AnswerText::AppendPiece(int64_t index, std::string& out) const {
  if (index < kPreparedPieces) {
    const auto i = static_cast<size_t>(index);
    out.append(prepared_, ends_[i], ends_[i + 1] - ends_[i]);
    return;
  }
  absl::StrAppend(&out, escaped_name_, "-", index, " ");
}

void AnswerText::AppendPieces(int64_t count, std::string& out) const {
  const int64_t prepared = std::min(count, kPreparedPieces);
  if (prepared > 0) out.append(prepared_, 0, ends_[static_cast<size_t>(prepared)]);
  for (int64_t i = prepared; i < count; ++i) AppendPiece(i, out);
}

std::array<float, kEmbeddingDimensions> EmbeddingVector(std::string_view item) {
  static_assert(kEmbeddingDimensions <= sizeof(uint64_t));
  const uint64_t hash = Fnv1a(item);
  std::array<float, kEmbeddingDimensions> vector;
  for (size_t j = 0; j < kEmbeddingDimensions; ++j) {
    vector[j] = static_cast<float>(static_cast<double>((hash >> (8 * j)) & 0xff) / 127.5 - 1.0);
  }
  return vector;
}

void AppendFloatArray(const std::array<float, kEmbeddingDimensions>& vector, std::string& out) {
  char number[32];
  out.push_back('[');
  for (size_t j = 0; j < vector.size(); ++j) {
    // Shortest round-trip text: a client reading it back as float32 gets the exact value.
    const std::to_chars_result result = std::to_chars(number, number + sizeof(number), vector[j]);
    if (j > 0) out.push_back(',');
    out.append(number, result.ptr);
  }
  out.push_back(']');
}

std::string_view FormatRfc3339(int64_t unix_seconds, std::array<char, 24>& out) {
  const auto seconds = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char* p = out.data();
  AppendDigits(utc.tm_year + 1900, 4, p);
  p[4] = '-';
  AppendDigits(utc.tm_mon + 1, 2, p + 5);
  p[7] = '-';
  AppendDigits(utc.tm_mday, 2, p + 8);
  p[10] = 'T';
  AppendDigits(utc.tm_hour, 2, p + 11);
  p[13] = ':';
  AppendDigits(utc.tm_min, 2, p + 14);
  p[16] = ':';
  AppendDigits(utc.tm_sec, 2, p + 17);
  p[19] = 'Z';
  return std::string_view(out.data(), 20);
}

}  // namespace llmesh::fakes
