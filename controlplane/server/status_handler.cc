#include "controlplane/server/status_handler.h"

#include <string>
#include <utility>

#include <boost/beast/http/field.hpp>

#include "common/metrics/text_format.h"

namespace llmesh::control {
namespace {

namespace beast_http = boost::beast::http;

http::Response Text(unsigned version, bool keep_alive, beast_http::status status,
                    std::string_view content_type, std::string body) {
  http::Response response{status, version};
  response.set(beast_http::field::content_type, content_type);
  response.keep_alive(keep_alive);
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

}  // namespace

boost::asio::awaitable<void> StatusHandler::Handle(http::Request& request,
                                                   http::ResponseWriter& writer) {
  std::string_view path = request.target();
  path = path.substr(0, path.find('?'));
  const unsigned version = request.version();
  const bool keep_alive = request.keep_alive();
  http::Response response;
  if (request.method() != beast_http::verb::get && request.method() != beast_http::verb::head) {
    response = Text(version, keep_alive, beast_http::status::method_not_allowed, "text/plain",
                    "method not allowed\n");
    response.set(beast_http::field::allow, "GET, HEAD");
  } else if (path == "/healthz") {
    response = Text(version, keep_alive, beast_http::status::ok, "text/plain", "ok\n");
  } else if (path == "/readyz") {
    const bool ready = ready_.load(std::memory_order_acquire);
    response = Text(version, keep_alive,
                    ready ? beast_http::status::ok : beast_http::status::service_unavailable,
                    "text/plain", ready ? "ready\n" : "not ready\n");
  } else if (path == "/metrics") {
    response = Text(version, keep_alive, beast_http::status::ok, metrics::kTextContentType,
                    registry_.Render());
  } else {
    response = Text(version, keep_alive, beast_http::status::not_found, "text/plain",
                    "not found; try /healthz /readyz /metrics\n");
  }
  (void)co_await writer.Send(std::move(response));
}

http::Response StatusHandler::Reject(boost::beast::http::status status, std::string_view reason,
                                     std::string_view) {
  return Text(11, false, status, "text/plain", std::string(reason) + "\n");
}

}  // namespace llmesh::control
