#include "tests/fakes/fake_provider/fake_control.h"

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "tests/fakes/fake_provider/fake_script.h"
#include "tests/fakes/fake_provider/openai_render.h"

namespace llmesh::fakes {
namespace {

namespace bhttp = boost::beast::http;

http::Response JsonResponse(bhttp::status status, std::string body) {
  http::Response response(status, 11);
  response.set(bhttp::field::content_type, "application/json");
  response.body() = std::move(body);
  return response;
}

http::Response BadRequest(const absl::Status& status) {
  const absl::string_view message = status.message();
  return JsonResponse(bhttp::status::bad_request,
                      OpenAiErrorBody(std::string_view(message.data(), message.size()),
                                      "invalid_request_error", ""));
}

}  // namespace

asio::awaitable<void> ServeControl(FakeState& state, std::string_view path,
                                   const http::Request& request, http::ResponseWriter& writer) {
  if (path == "/_fake/script" && request.method() == bhttp::verb::post) {
    absl::StatusOr<FakeScript> script = ParseFakeScript(request.body());
    absl::Status status = script.status();
    if (status.ok()) status = CheckScriptForFlavor(*script, state.options.flavor);
    if (!status.ok()) {
      (void)co_await writer.Send(BadRequest(status));
      co_return;
    }
    state.script.Replace(*std::move(script));
    (void)co_await writer.Send(JsonResponse(bhttp::status::ok, "{\"ok\":true}"));
    co_return;
  }
  if (path == "/_fake/reset" && request.method() == bhttp::verb::post) {
    state.Reset();
    (void)co_await writer.Send(JsonResponse(bhttp::status::ok, "{\"ok\":true}"));
    co_return;
  }
  if (path == "/_fake/stats" && request.method() == bhttp::verb::get) {
    (void)co_await writer.Send(JsonResponse(bhttp::status::ok, state.StatsJson()));
    co_return;
  }
  (void)co_await writer.Send(
      JsonResponse(bhttp::status::not_found,
                   OpenAiErrorBody("Unknown control endpoint.", "invalid_request_error", "")));
}

}  // namespace llmesh::fakes
