#include "common/config/dump.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"

namespace llmesh::config {

using llmesh::config::v1::Config;

std::string RedactUrl(std::string_view url) {
  constexpr std::string_view kRedacted = "[redacted]";
  const size_t fragment = url.find('#');
  const size_t query = url.substr(0, fragment).find('?');
  const size_t before_query = query != std::string_view::npos ? query : fragment;
  std::string out;
  const size_t scheme_end = url.find("://");
  size_t rest = 0;
  if (scheme_end != std::string_view::npos && scheme_end < before_query) {
    rest = scheme_end + 3;
    // The last '@' rather than the first: a password may itself hold an unescaped '@' or '/'.
    const size_t at = url.substr(0, before_query).rfind('@');
    out.append(url.substr(0, rest));
    if (at != std::string_view::npos && at >= rest) {
      absl::StrAppend(&out, AbslView(kRedacted), "@");
      rest = at + 1;
    }
  }
  out.append(url.substr(rest, before_query - rest));
  if (query != std::string_view::npos) absl::StrAppend(&out, "?", AbslView(kRedacted));
  if (fragment != std::string_view::npos) out.append(url.substr(fragment));
  return out;
}

std::string ConfigDumpJson(const Config& config) {
  Config redacted = config;
  for (auto& provider : *redacted.mutable_providers()) {
    provider.set_base_url(RedactUrl(provider.base_url()));
  }
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string out;
  const auto status = google::protobuf::util::MessageToJsonString(redacted, &out, options);
  if (!status.ok()) {
    // Only reachable with values proto JSON cannot express, e.g. a pushed Duration whose
    // nanos are out of range; say so instead of serving half a document.
    return boost::json::serialize(boost::json::object{
               {"error", absl::StrCat("config cannot be printed: ",
                                      std::string(status.message()))}}) +
           "\n";
  }
  return out;
}

}  // namespace llmesh::config
