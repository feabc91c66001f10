#include "proxy/upstream/endpoint.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"

namespace llmesh::upstream {
namespace {

absl::Status BadUrl(std::string_view url, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("\"", AbslView(url), "\": ", AbslView(why)));
}

}  // namespace

std::string Endpoint::HostHeader() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  const bool default_port = port == (tls ? 443 : 80);
  if (ipv6) return default_port ? absl::StrCat("[", host, "]") : absl::StrCat("[", host, "]:", port);
  return default_port ? host : absl::StrCat(host, ":", port);
}

std::string Endpoint::Authority() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<ParsedBaseUrl> ParseBaseUrl(std::string_view base_url, std::string ca_file) {
  boost::system::result<boost::urls::url_view> parsed = boost::urls::parse_uri(base_url);
  if (!parsed) return BadUrl(base_url, "not an absolute URL");
  const boost::urls::url_view& url = *parsed;

  ParsedBaseUrl result;
  Endpoint& endpoint = result.endpoint;
  switch (url.scheme_id()) {
    case boost::urls::scheme::http:
      endpoint.tls = false;
      break;
    case boost::urls::scheme::https:
      endpoint.tls = true;
      break;
    default:
      return BadUrl(base_url, "scheme must be http or https");
  }
  if (!url.has_authority() || url.encoded_host().empty()) return BadUrl(base_url, "missing host");
  if (url.has_userinfo()) return BadUrl(base_url, "user info is not allowed (put credentials in api_key_env)");
  if (url.has_query()) return BadUrl(base_url, "a query is not allowed");
  if (url.has_fragment()) return BadUrl(base_url, "a fragment is not allowed");

  switch (url.host_type()) {
    case boost::urls::host_type::name:
      endpoint.host = absl::AsciiStrToLower(url.host_name());
      break;
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
      endpoint.host = url.host_address();
      break;
    default:
      return BadUrl(base_url, "unsupported host");
  }

  endpoint.port = endpoint.tls ? 443 : 80;
  if (url.has_port() && !url.port().empty()) {
    uint32_t port = 0;
    if (!absl::SimpleAtoi(AbslView(std::string_view(url.port())), &port) || port == 0 || port > 65535) {
      return BadUrl(base_url, "port must be 1-65535");
    }
    endpoint.port = static_cast<uint16_t>(port);
  }
  endpoint.ca_file = std::move(ca_file);

  std::string_view path = url.encoded_path();
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  result.base_path = std::string(path);
  return result;
}

absl::StatusOr<Endpoint> EndpointFromUrl(std::string_view base_url, std::string ca_file, std::string* base_path) {
  absl::StatusOr<ParsedBaseUrl> parsed = ParseBaseUrl(base_url, std::move(ca_file));
  if (!parsed.ok()) return parsed.status();
  if (base_path != nullptr) *base_path = std::move(parsed->base_path);
  return std::move(parsed->endpoint);
}

}  // namespace llmesh::upstream
