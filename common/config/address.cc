#include "common/config/address.h"

#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl_view.h"

namespace llmesh::config {
namespace {

absl::Status Invalid(absl::string_view address, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat("invalid address \"", address, "\": ", reason,
                                                 " (expected host:port, e.g. 127.0.0.1:4000)"));
}

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// RFC 1123 host names. A final label of only digits is what a mistyped IPv4 literal
// ("10.0.0.300") looks like, and no real domain ends that way (RFC 3696 section 2).
bool IsHostname(absl::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  absl::string_view last;
  for (absl::string_view label : absl::StrSplit(host, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    last = label;
  }
  return !AllDigits(last);
}

}  // namespace

absl::StatusOr<HostPort> ParseHostPort(std::string_view address_in) {
  const absl::string_view address = AbslView(address_in);
  absl::string_view host;
  absl::string_view port_text;
  bool bracketed = false;
  if (!address.empty() && address.front() == '[') {
    const size_t close = address.find(']');
    if (close == absl::string_view::npos) return Invalid(address, "missing \"]\"");
    host = address.substr(1, close - 1);
    const absl::string_view rest = address.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return Invalid(address, "missing port");
    port_text = rest.substr(1);
    bracketed = true;
  } else {
    const size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) return Invalid(address, "missing port");
    host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
    if (host.find(':') != absl::string_view::npos) {
      return Invalid(address, "IPv6 addresses need brackets, e.g. [::1]:4000");
    }
  }
  if (host.empty()) return Invalid(address, "host is empty");
  uint32_t port = 0;
  if (port_text.empty() || port_text.size() > 5 || !AllDigits(port_text) ||
      !absl::SimpleAtoi(port_text, &port) || port > 65535) {
    return Invalid(address, "port must be a number in 0..65535");
  }
  const std::string_view host_std(host.data(), host.size());
  const bool valid_host = bracketed ? boost::urls::parse_ipv6_address(host_std).has_value()
                                    : boost::urls::parse_ipv4_address(host_std).has_value() ||
                                          IsHostname(host);
  if (!valid_host) return Invalid(address, absl::StrCat("invalid host \"", host, "\""));
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

}  // namespace llmesh::config
