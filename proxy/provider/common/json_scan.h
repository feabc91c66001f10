// What the provider layer's one-pass JSON readers share: the base of their Boost.JSON event
// handlers and the call that runs one over a text.
//
// A reader that needs a few facts from a body (the client's request, a passthrough answer or
// stream chunk) runs Boost.JSON's event parser with its own handler instead of building a tree:
// the same syntax, UTF-8 and depth checks as ParseJson, without allocating. A handler stops the
// parse with Refuse() when it cannot decide, and its caller then falls back to the tree.
// Header-only; thread-safe (a handler belongs to one parse).
#pragma once

#include <cstddef>
#include <string_view>

#include <boost/json/basic_parser.hpp>
#include <boost/json/string_view.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>

#include "proxy/provider/common/json_fields.h"

namespace llmesh::provider {

// Base of the handlers: no limits beyond the parser's own, document events ignored, number parts
// skipped, comments refused (ParseJson does not accept them either). A handler adds the value
// events it needs.
class JsonScanHandler {
 public:
  static constexpr size_t max_object_size = static_cast<size_t>(-1);
  static constexpr size_t max_array_size = static_cast<size_t>(-1);
  static constexpr size_t max_key_size = static_cast<size_t>(-1);
  static constexpr size_t max_string_size = static_cast<size_t>(-1);

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_number_part(boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_comment_part(boost::json::string_view, boost::system::error_code& ec) { return Refuse(ec); }
  bool on_comment(boost::json::string_view, boost::system::error_code& ec) { return Refuse(ec); }

  // True once the handler stopped the parse because it cannot decide.
  bool refused() const { return refused_; }

 protected:
  // Stops the parse; the event returns what this returns.
  bool Refuse(boost::system::error_code& ec) {
    refused_ = true;
    ec = boost::system::errc::make_error_code(boost::system::errc::operation_canceled);
    return false;
  }

 private:
  bool refused_ = false;
};

// ParseJson's options (the depth limit), for the parsers of a scan.
inline boost::json::parse_options JsonScanOptions() {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  return options;
}

// Feeds all of `text` to `parser` (made with JsonScanOptions, its handler a JsonScanHandler);
// true when the text is valid JSON and the handler did not refuse.
template <class Handler>
bool ScanJson(boost::json::basic_parser<Handler>& parser, std::string_view text) {
  boost::system::error_code ec;
  const size_t used = parser.write_some(false, text.data(), text.size(), ec);
  return !ec && used == text.size() && !parser.handler().refused();
}

}  // namespace llmesh::provider
