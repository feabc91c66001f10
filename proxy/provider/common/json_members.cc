#include "proxy/provider/common/json_members.h"

#include <cstddef>
#include <cstring>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace llmesh::provider {
namespace {

constexpr size_t kNpos = std::string_view::npos;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t SkipSpace(std::string_view text, size_t i) {
  while (i < text.size() && IsSpace(text[i])) ++i;
  return i;
}

// `i` is at an opening quote; returns the index after the closing quote. Prompts make most of
// a body's bytes, so the scan jumps from quote to quote (memchr) and looks back for escapes.
size_t SkipString(std::string_view text, size_t i) {
  const char* data = text.data();
  const size_t open = i;
  for (size_t from = i + 1; from < text.size();) {
    const void* found = std::memchr(data + from, '"', text.size() - from);
    if (found == nullptr) return kNpos;
    const size_t quote = static_cast<size_t>(static_cast<const char*>(found) - data);
    size_t backslashes = 0;
    while (quote - backslashes > open + 1 && data[quote - 1 - backslashes] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return quote + 1;
    from = quote + 1;
  }
  return kNpos;
}

// `i` is at the first byte of a value; returns the index after it.
size_t SkipValue(std::string_view text, size_t i) {
  if (i >= text.size()) return kNpos;
  const char first = text[i];
  if (first == '"') return SkipString(text, i);
  if (first == '{' || first == '[') {
    size_t depth = 0;
    while (i < text.size()) {
      const char c = text[i];
      if (c == '"') {
        i = SkipString(text, i);
        if (i == kNpos) return kNpos;
        continue;
      }
      if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return kNpos;
  }
  const size_t start = i;
  while (i < text.size() && !IsSpace(text[i]) && text[i] != ',' && text[i] != '}' && text[i] != ']') {
    ++i;
  }
  return i == start ? kNpos : i;
}

}  // namespace

bool SplitTopLevelMembers(std::string_view text, JsonMembers& members) {
  members.clear();
  size_t i = SkipSpace(text, 0);
  if (i >= text.size() || text[i] != '{') return false;
  i = SkipSpace(text, i + 1);
  if (i < text.size() && text[i] == '}') return SkipSpace(text, i + 1) == text.size();
  while (true) {
    if (i >= text.size() || text[i] != '"') return false;
    const size_t key_end = SkipString(text, i);
    if (key_end == kNpos) return false;
    const std::string_view key = text.substr(i, key_end - i);
    i = SkipSpace(text, key_end);
    if (i >= text.size() || text[i] != ':') return false;
    i = SkipSpace(text, i + 1);
    const size_t value_end = SkipValue(text, i);
    if (value_end == kNpos) return false;
    members.push_back(JsonMember{key, text.substr(i, value_end - i)});
    i = SkipSpace(text, value_end);
    if (i >= text.size()) return false;
    if (text[i] == '}') return SkipSpace(text, i + 1) == text.size();
    if (text[i] != ',') return false;
    i = SkipSpace(text, i + 1);
  }
}

bool KeyIs(std::string_view key_token, std::string_view name) {
  if (key_token.size() < 2) return false;
  const std::string_view inner = key_token.substr(1, key_token.size() - 2);
  if (inner.find('\\') == std::string_view::npos) return inner == name;
  boost::system::error_code ec;
  const boost::json::value decoded =
      boost::json::parse(boost::json::string_view(key_token.data(), key_token.size()), ec);
  return !ec && decoded.is_string() &&
         std::string_view(decoded.get_string().data(), decoded.get_string().size()) == name;
}

}  // namespace llmesh::provider
