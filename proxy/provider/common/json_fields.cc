#include "proxy/provider/common/json_fields.h"

#include <cmath>
#include <limits>
#include <system_error>

#include <boost/json/parse.hpp>

namespace llmesh::provider {
namespace {

std::optional<int64_t> AsInt(const boost::json::value& value) {
  if (value.is_int64()) return value.get_int64();
  if (value.is_uint64()) {
    const uint64_t v = value.get_uint64();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(v);
  }
  if (value.is_double()) {
    const double d = value.get_double();
    // 2^63 is exactly representable; anything at or beyond it does not fit.
    if (!std::isfinite(d) || d != std::trunc(d) || d >= 9223372036854775808.0 ||
        d < -9223372036854775808.0) {
      return std::nullopt;
    }
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

}  // namespace

bool ParseJson(std::string_view text, boost::json::value& out, boost::system::error_code& ec) {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  // Same storage on both sides, so the assignment moves instead of copying.
  out = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec, out.storage(),
                           options);
  return !ec;
}

bool ParseJson(std::string_view text, boost::json::value& out) {
  boost::system::error_code ec;
  return ParseJson(text, out, ec);
}

const boost::json::object* ObjectField(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  return value == nullptr ? nullptr : value->if_object();
}

const boost::json::array* ArrayField(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  return value == nullptr ? nullptr : value->if_array();
}

std::string_view StringField(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return {};
  const boost::json::string& s = value->get_string();
  return std::string_view(s.data(), s.size());
}

std::optional<uint64_t> UintField(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  if (value == nullptr) return std::nullopt;
  if (value->is_uint64()) return value->get_uint64();
  std::optional<int64_t> v = AsInt(*value);
  if (!v || *v < 0) return std::nullopt;
  return static_cast<uint64_t>(*v);
}

std::optional<int64_t> IntField(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  return value == nullptr ? std::nullopt : AsInt(*value);
}

std::string TruncateUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  // Back up over continuation bytes (10xxxxxx) so the cut lands before a lead byte.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

}  // namespace llmesh::provider
