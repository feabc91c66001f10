#include "common/config/env.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"

namespace llmesh::config {
namespace {

bool IsValidVariableName(std::string_view name) {
  if (name.empty() || absl::ascii_isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    // getenv needs a NUL-terminated name.
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::string ExpandEnvReferences(std::string_view text, const EnvLookup& env,
                                std::vector<std::string>* problems) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '$') {
      out.push_back(c);
      ++i;
      continue;
    }
    if (text.substr(i, 3) == "$${") {
      out.append("${");
      i += 3;
      continue;
    }
    if (text.substr(i, 2) != "${") {
      out.push_back(c);
      ++i;
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      problems->push_back(absl::StrCat("unterminated variable reference \"", AbslView(text.substr(i)),
                                       "\" (missing \"}\")"));
      return out;
    }
    const std::string_view body = text.substr(i + 2, close - i - 2);
    const size_t sep = body.find(":-");
    const std::string_view name = body.substr(0, sep);
    i = close + 1;
    if (!IsValidVariableName(name)) {
      problems->push_back(absl::StrCat("invalid environment variable name \"", AbslView(name),
                                       "\" in \"${", AbslView(body), "}\""));
      continue;
    }
    std::optional<std::string> value = env(name);
    if (sep != std::string_view::npos) {
      if (!value.has_value() || value->empty()) value = std::string(body.substr(sep + 2));
    } else if (!value.has_value()) {
      problems->push_back(absl::StrCat("environment variable \"", AbslView(name), "\" is not set"));
      continue;
    }
    out.append(*value);
  }
  return out;
}

}  // namespace llmesh::config
