#include "common/http/host_port.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace llmesh::http {
namespace {

absl::Status Invalid(std::string_view host_port, std::string_view why) {
  std::string message = "listen address \"";
  message.append(host_port).append("\": ").append(why);
  return absl::InvalidArgumentError(message);
}

}  // namespace

absl::StatusOr<boost::asio::ip::tcp::endpoint> ParseHostPort(std::string_view host_port) {
  std::string_view host;
  std::string_view port_text;
  if (!host_port.empty() && host_port.front() == '[') {
    size_t close = host_port.find(']');
    if (close == std::string_view::npos || close + 1 >= host_port.size() ||
        host_port[close + 1] != ':') {
      return Invalid(host_port, "expected [ipv6]:port");
    }
    host = host_port.substr(1, close - 1);
    port_text = host_port.substr(close + 2);
  } else {
    size_t colon = host_port.rfind(':');
    if (colon == std::string_view::npos) return Invalid(host_port, "expected host:port");
    host = host_port.substr(0, colon);
    port_text = host_port.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return Invalid(host_port, "IPv6 addresses must be written as [addr]:port");
    }
  }
  if (host.empty()) return Invalid(host_port, "missing host");
  if (port_text.empty() || port_text.size() > 5) return Invalid(host_port, "bad port");
  for (char c : port_text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return Invalid(host_port, "bad port");
  }
  uint32_t port = 0;
  if (!absl::SimpleAtoi(absl::string_view(port_text.data(), port_text.size()), &port) ||
      port > 65535) {
    return Invalid(host_port, "port out of range");
  }

  boost::asio::ip::address address;
  if (absl::AsciiStrToLower(absl::string_view(host.data(), host.size())) == "localhost") {
    address = boost::asio::ip::address_v4::loopback();
  } else {
    boost::system::error_code ec;
    address = boost::asio::ip::make_address(std::string(host), ec);
    if (ec) return Invalid(host_port, "host must be a numeric address or localhost");
  }
  return boost::asio::ip::tcp::endpoint(address, static_cast<uint16_t>(port));
}

std::string FormatHostPort(const boost::asio::ip::tcp::endpoint& endpoint) {
  const boost::asio::ip::address address = endpoint.address();
  if (address.is_v6()) return absl::StrCat("[", address.to_string(), "]:", endpoint.port());
  return absl::StrCat(address.to_string(), ":", endpoint.port());
}

}  // namespace llmesh::http
