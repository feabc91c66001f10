#include "tests/fakes/fake_provider/fake_handler.h"

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "tests/fakes/fake_provider/fake_control.h"
#include "tests/fakes/fake_provider/fake_exchange.h"

namespace llmesh::fakes {
namespace {

namespace bhttp = boost::beast::http;

void WriteHex(uint64_t value, size_t digits, char* out) {
  constexpr std::string_view kHex = "0123456789abcdef";
  for (size_t i = digits; i > 0; --i) {
    out[i - 1] = kHex[value & 0xf];
    value >>= 4;
  }
}

}  // namespace

std::string_view FakeHandler::NextRequestId(std::array<char, 28>& out) {
  out[0] = 'r';
  out[1] = 'e';
  out[2] = 'q';
  out[3] = '_';
  WriteHex(worker_, 4, out.data() + 4);
  WriteHex(++sequence_, 20, out.data() + 8);
  return std::string_view(out.data(), out.size());
}

asio::awaitable<void> FakeHandler::Handle(http::Request& request, http::ResponseWriter& writer) {
  const std::string_view target = request.target();
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  if (path.starts_with("/_fake/")) {
    co_await ServeControl(state_, path, request, writer);
    co_return;
  }

  FakeStats& stats = state_.stats;
  stats.requests.fetch_add(1, std::memory_order_relaxed);
  stats.in_flight.fetch_add(1, std::memory_order_relaxed);
  struct InFlight {
    FakeStats& stats;
    ~InFlight() { stats.in_flight.fetch_sub(1, std::memory_order_relaxed); }
  } in_flight{stats};
  state_.last_request.Record(worker_, path, api_.Credential(request), request.body());

  std::array<char, 28> id_bytes;
  Exchange exchange(api_, writer, NextRequestId(id_bytes));
  const Route route = api_.Resolve(request.method(), path, query);
  switch (route.endpoint) {
    case Endpoint::kChat:
      stats.chat.fetch_add(1, std::memory_order_relaxed);
      break;
    case Endpoint::kEmbeddings:
      stats.embeddings.fetch_add(1, std::memory_order_relaxed);
      break;
    case Endpoint::kModels:
      stats.models.fetch_add(1, std::memory_order_relaxed);
      break;
    case Endpoint::kUnknown: {
      std::string message;
      co_await exchange.SendError(api_.NotFound(request, path, message));
      co_return;
    }
  }
  if (std::optional<ApiError> refusal = api_.Admit(request)) {
    co_await exchange.SendError(*refusal);
    co_return;
  }
  absl::StatusOr<Plan> plan = planner_.MakePlan(request);
  if (!plan.ok()) {
    const absl::string_view message = plan.status().message();
    ApiError error = api_.DefaultError(400);
    error.message = std::string_view(message.data(), message.size());
    error.code = {};
    co_await exchange.SendError(error);
    co_return;
  }
  exchange.Adopt(*std::move(plan));
  if (!co_await exchange.RunScriptedStart()) co_return;
  co_await api_.Serve(route, request, exchange);
}

http::Response FakeHandler::Reject(bhttp::status status, std::string_view reason, std::string_view /*target*/) {
  const int code = static_cast<int>(status);
  ApiError error = api_.DefaultError(code);
  error.message = reason;
  error.code = {};
  std::array<char, 28> id_bytes;
  const ResponseMeta meta{NextRequestId(id_bytes), code, {}};
  http::Response response(status, 11);
  response.set(bhttp::field::content_type, "application/json");
  api_.AppendErrorBody(error, meta, response.body());
  api_.SetHeaders(response.base(), meta);
  return response;
}

}  // namespace llmesh::fakes
