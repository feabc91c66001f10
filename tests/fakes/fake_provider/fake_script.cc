#include "tests/fakes/fake_provider/fake_script.h"

#include <boost/beast/core/string.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "absl/strings/numbers.h"
#include "common/status_macros.h"

namespace llmesh::fakes {
namespace {

namespace json = boost::json;

absl::Status BadKey(std::string_view key, std::string_view why) {
  std::string message = "script key \"";
  message.append(key).append("\": ").append(why);
  return absl::InvalidArgumentError(message);
}

absl::StatusOr<int64_t> Int(const json::value& value, std::string_view key, int64_t min,
                            int64_t max) {
  int64_t result = 0;
  if (value.is_int64()) {
    result = value.get_int64();
  } else if (value.is_uint64() && value.get_uint64() <= static_cast<uint64_t>(max)) {
    result = static_cast<int64_t>(value.get_uint64());
  } else if (value.is_double() && value.get_double() == static_cast<int64_t>(value.get_double())) {
    result = static_cast<int64_t>(value.get_double());
  } else {
    return BadKey(key, "expected an integer");
  }
  if (result < min || result > max) return BadKey(key, "out of range");
  return result;
}

absl::StatusOr<bool> Bool(const json::value& value, std::string_view key) {
  if (!value.is_bool()) return BadKey(key, "expected true or false");
  return value.get_bool();
}

absl::StatusOr<std::string> String(const json::value& value, std::string_view key) {
  if (!value.is_string()) return BadKey(key, "expected a string");
  return std::string(value.get_string());
}

absl::StatusOr<double> Probability(const json::value& value, std::string_view key) {
  if (!value.is_number()) return BadKey(key, "expected a number");
  double result = value.to_number<double>();
  if (!(result >= 0.0 && result <= 1.0)) return BadKey(key, "must be within [0, 1]");
  return result;
}

// A JSON object, or a string holding one (how OpenAI itself carries arguments); compact text.
absl::StatusOr<std::string> ToolArguments(const json::value& value, std::string_view key) {
  if (value.is_object()) return json::serialize(value);
  if (value.is_string()) {
    boost::system::error_code ec;
    const json::value parsed = json::parse(value.get_string(), ec);
    if (!ec && parsed.is_object()) return json::serialize(parsed);
  }
  return BadKey(key, "expected a JSON object or a string holding one");
}

constexpr int64_t kMaxMs = 24LL * 3600 * 1000;
constexpr int64_t kMaxChunks = 1000000;
constexpr int64_t kMaxTokens = 1000000000;

absl::StatusOr<int64_t> HeaderInt(std::string_view name, std::string_view value, int64_t min,
                                  int64_t max) {
  int64_t result = 0;
  if (!absl::SimpleAtoi(absl::string_view(value.data(), value.size()), &result) || result < min ||
      result > max) {
    std::string message = "header ";
    message.append(name).append(": bad value \"").append(value).append("\"");
    return absl::InvalidArgumentError(message);
  }
  return result;
}

absl::StatusOr<bool> HeaderBool(std::string_view name, std::string_view value) {
  if (value == "1" || boost::beast::iequals(value, "true")) return true;
  if (value == "0" || boost::beast::iequals(value, "false")) return false;
  std::string message = "header ";
  message.append(name).append(": expected true or false");
  return absl::InvalidArgumentError(message);
}

}  // namespace

absl::StatusOr<FakeScript> ParseFakeScript(std::string_view text) {
  boost::system::error_code ec;
  json::value root = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !root.is_object()) return absl::InvalidArgumentError("script must be a JSON object");
  FakeScript script;
  for (const auto& [key_view, value] : root.get_object()) {
    const std::string_view key(key_view.data(), key_view.size());
    if (key == "status") {
      LLMESH_ASSIGN_OR_RETURN(script.status, Int(value, key, 100, 599));
    } else if (key == "error_type") {
      LLMESH_ASSIGN_OR_RETURN(script.error_type, String(value, key));
    } else if (key == "error_code") {
      LLMESH_ASSIGN_OR_RETURN(script.error_code, String(value, key));
    } else if (key == "error_message") {
      LLMESH_ASSIGN_OR_RETURN(script.error_message, String(value, key));
    } else if (key == "error_array") {
      LLMESH_ASSIGN_OR_RETURN(script.error_array, Bool(value, key));
    } else if (key == "body") {
      LLMESH_ASSIGN_OR_RETURN(script.body, String(value, key));
      script.has_body = true;
    } else if (key == "content_type") {
      LLMESH_ASSIGN_OR_RETURN(script.content_type, String(value, key));
    } else if (key == "headers") {
      if (!value.is_object()) return BadKey(key, "expected an object of strings");
      for (const auto& [name, header_value] : value.get_object()) {
        if (!header_value.is_string()) return BadKey(key, "expected an object of strings");
        script.headers.emplace_back(std::string(name), std::string(header_value.get_string()));
      }
    } else if (key == "latency_ms") {
      LLMESH_ASSIGN_OR_RETURN(script.latency_ms, Int(value, key, 0, kMaxMs));
    } else if (key == "first_chunk_ms") {
      LLMESH_ASSIGN_OR_RETURN(script.first_chunk_ms, Int(value, key, 0, kMaxMs));
    } else if (key == "chunks") {
      LLMESH_ASSIGN_OR_RETURN(script.chunks, Int(value, key, 0, kMaxChunks));
    } else if (key == "chunk_interval_ms") {
      LLMESH_ASSIGN_OR_RETURN(script.chunk_interval_ms, Int(value, key, 0, kMaxMs));
    } else if (key == "hang") {
      LLMESH_ASSIGN_OR_RETURN(script.hang, Bool(value, key));
    } else if (key == "close_before_response") {
      LLMESH_ASSIGN_OR_RETURN(script.close_before_response, Bool(value, key));
    } else if (key == "reset_after_events") {
      LLMESH_ASSIGN_OR_RETURN(script.reset_after_events, Int(value, key, -1, kMaxChunks));
    } else if (key == "error_after_events") {
      LLMESH_ASSIGN_OR_RETURN(script.error_after_events, Int(value, key, -1, kMaxChunks));
    } else if (key == "malformed") {
      LLMESH_ASSIGN_OR_RETURN(script.malformed, Bool(value, key));
    } else if (key == "blocked") {
      LLMESH_ASSIGN_OR_RETURN(script.blocked, Bool(value, key));
    } else if (key == "tool_call") {
      LLMESH_ASSIGN_OR_RETURN(script.tool_call, String(value, key));
    } else if (key == "tool_arguments") {
      LLMESH_ASSIGN_OR_RETURN(script.tool_arguments, ToolArguments(value, key));
    } else if (key == "reasoning_tokens") {
      LLMESH_ASSIGN_OR_RETURN(script.reasoning_tokens, Int(value, key, 0, kMaxTokens));
    } else if (key == "cached_tokens") {
      LLMESH_ASSIGN_OR_RETURN(script.cached_tokens, Int(value, key, 0, kMaxTokens));
    } else if (key == "keep_alive_comments") {
      LLMESH_ASSIGN_OR_RETURN(script.keep_alive_comments, Int(value, key, 0, kMaxChunks));
    } else if (key == "empty_choices_chunk") {
      LLMESH_ASSIGN_OR_RETURN(script.empty_choices_chunk, Bool(value, key));
    } else if (key == "fail_probability") {
      LLMESH_ASSIGN_OR_RETURN(script.fail_probability, Probability(value, key));
    } else if (key == "count") {
      LLMESH_ASSIGN_OR_RETURN(script.count, Int(value, key, 0, INT64_MAX));
    } else {
      return BadKey(key, "unknown key");
    }
  }
  return script;
}

absl::Status CheckScriptForFlavor(const FakeScript& script, Flavor flavor) {
  auto unsupported = [flavor](std::string_view key, Flavor only) {
    std::string message = "\"";
    message.append(key).append("\" is not supported by the ").append(FlavorName(flavor));
    message.append(" flavor (").append(FlavorName(only)).append(" only)");
    return absl::InvalidArgumentError(message);
  };
  if (script.empty_choices_chunk && flavor != Flavor::kOpenAi) {
    return unsupported("empty_choices_chunk", Flavor::kOpenAi);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> ApplyFakeHeader(std::string_view name, std::string_view value,
                                     FakeScript& script) {
  using boost::beast::iequals;
  if (name.size() < 7 || !iequals(name.substr(0, 7), "x-fake-")) return false;
  const std::string_view key = name.substr(7);
  if (iequals(key, "status")) {
    LLMESH_ASSIGN_OR_RETURN(script.status, HeaderInt(name, value, 100, 599));
  } else if (iequals(key, "retry-after")) {
    script.headers.emplace_back("retry-after", std::string(value));
  } else if (iequals(key, "retry-after-ms")) {
    script.headers.emplace_back("retry-after-ms", std::string(value));
  } else if (iequals(key, "latency-ms")) {
    LLMESH_ASSIGN_OR_RETURN(script.latency_ms, HeaderInt(name, value, 0, kMaxMs));
  } else if (iequals(key, "first-chunk-ms")) {
    LLMESH_ASSIGN_OR_RETURN(script.first_chunk_ms, HeaderInt(name, value, 0, kMaxMs));
  } else if (iequals(key, "chunks")) {
    LLMESH_ASSIGN_OR_RETURN(script.chunks, HeaderInt(name, value, 0, kMaxChunks));
  } else if (iequals(key, "chunk-interval-ms")) {
    LLMESH_ASSIGN_OR_RETURN(script.chunk_interval_ms, HeaderInt(name, value, 0, kMaxMs));
  } else if (iequals(key, "hang")) {
    LLMESH_ASSIGN_OR_RETURN(script.hang, HeaderBool(name, value));
  } else if (iequals(key, "reset-after-events")) {
    LLMESH_ASSIGN_OR_RETURN(script.reset_after_events, HeaderInt(name, value, -1, kMaxChunks));
  } else if (iequals(key, "error-after-events")) {
    LLMESH_ASSIGN_OR_RETURN(script.error_after_events, HeaderInt(name, value, -1, kMaxChunks));
  } else if (iequals(key, "malformed")) {
    LLMESH_ASSIGN_OR_RETURN(script.malformed, HeaderBool(name, value));
  } else if (iequals(key, "blocked")) {
    LLMESH_ASSIGN_OR_RETURN(script.blocked, HeaderBool(name, value));
  } else if (iequals(key, "error-array")) {
    LLMESH_ASSIGN_OR_RETURN(script.error_array, HeaderBool(name, value));
  } else if (iequals(key, "tool-call")) {
    script.tool_call.assign(value);
  } else if (iequals(key, "tool-arguments")) {
    boost::system::error_code ec;
    const json::value arguments = json::parse(json::string_view(value.data(), value.size()), ec);
    if (ec || !arguments.is_object()) {
      std::string message = "header ";
      message.append(name).append(": expected a JSON object");
      return absl::InvalidArgumentError(message);
    }
    script.tool_arguments = json::serialize(arguments);
  } else if (iequals(key, "reasoning-tokens")) {
    LLMESH_ASSIGN_OR_RETURN(script.reasoning_tokens, HeaderInt(name, value, 0, kMaxTokens));
  } else if (iequals(key, "cached-tokens")) {
    LLMESH_ASSIGN_OR_RETURN(script.cached_tokens, HeaderInt(name, value, 0, kMaxTokens));
  } else if (iequals(key, "keep-alive-comments")) {
    LLMESH_ASSIGN_OR_RETURN(script.keep_alive_comments, HeaderInt(name, value, 0, kMaxChunks));
  } else if (iequals(key, "empty-choices-chunk")) {
    LLMESH_ASSIGN_OR_RETURN(script.empty_choices_chunk, HeaderBool(name, value));
  } else if (iequals(key, "fail-probability")) {
    double probability = 0;
    if (!absl::SimpleAtod(absl::string_view(value.data(), value.size()), &probability) ||
        !(probability >= 0.0 && probability <= 1.0)) {
      std::string message = "header ";
      message.append(name).append(": expected a number within [0, 1]");
      return absl::InvalidArgumentError(message);
    }
    script.fail_probability = probability;
  } else {
    return false;
  }
  return true;
}

}  // namespace llmesh::fakes
