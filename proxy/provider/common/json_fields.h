// Small, non-throwing readers for provider JSON (Boost.JSON), shared by every adapter.
//
// Provider payloads are untrusted: every accessor tolerates a missing key or a value of the
// wrong type and reports "absent" instead of throwing. Also the parse entry point adapters use
// on the hot path. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

namespace llmesh::provider {

// Nesting allowed in provider and client JSON (Boost's default of 32 is too shallow for real
// tool and response_format schemas).
inline constexpr size_t kMaxJsonDepth = 128;

// Parses `text` as one JSON value into `out`, allocating from out's own storage (construct it
// with a monotonic_resource to parse without heap allocations). Returns false on any syntax
// error, nesting beyond kMaxJsonDepth or trailing garbage; never throws on bad input.
bool ParseJson(std::string_view text, boost::json::value& out);
// Same, reporting the parse error.
bool ParseJson(std::string_view text, boost::json::value& out, boost::system::error_code& ec);

// The member `key` of `object` as the given type, or nullptr / empty / nullopt when it is
// absent or has another type.
const boost::json::object* ObjectField(const boost::json::object& object, std::string_view key);
const boost::json::array* ArrayField(const boost::json::object& object, std::string_view key);
std::string_view StringField(const boost::json::object& object, std::string_view key);
// A non-negative integer (a double with an integral value, as some providers send, counts).
std::optional<uint64_t> UintField(const boost::json::object& object, std::string_view key);
// An integer of any sign (doubles with an integral value count).
std::optional<int64_t> IntField(const boost::json::object& object, std::string_view key);

// `text` cut to at most `max_bytes` without splitting a UTF-8 sequence.
std::string TruncateUtf8(std::string_view text, size_t max_bytes);

}  // namespace llmesh::provider
