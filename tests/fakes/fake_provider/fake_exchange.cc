#include "tests/fakes/fake_provider/fake_exchange.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>

namespace llmesh::fakes {
namespace {

namespace bhttp = boost::beast::http;

std::string_view Or(std::string_view value, std::string_view fallback) {
  return value.empty() ? fallback : value;
}

}  // namespace

asio::awaitable<bool> Delay(int64_t ms) {
  if (ms <= 0) co_return true;
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

void Exchange::Adopt(Plan plan) {
  plan_ = std::move(plan);
  retry_after_ = {};
  for (const auto& [name, value] : plan_.script.headers) {
    if (boost::beast::iequals(name, "retry-after")) retry_after_ = value;
  }
}

void Exchange::SetHeaders(bhttp::fields& fields, int status, bool scripted) const {
  api_.SetHeaders(fields, ResponseMeta{request_id_, status, scripted ? retry_after_ : ""});
  if (scripted && plan_.fail) {
    for (const auto& [name, value] : plan_.script.headers) fields.set(name, value);
  }
}

ApiError Exchange::ScriptedStreamError() const {
  ApiError error = api_.StreamError();
  const FakeScript& script = plan_.script;
  error.message = Or(script.error_message, error.message);
  error.type = Or(script.error_type, error.type);
  error.code = Or(script.error_code, error.code);
  return error;
}

asio::awaitable<bool> Exchange::RunScriptedStart() {
  const FakeScript& script = plan_.script;
  if (!co_await Delay(script.latency_ms)) co_return false;
  if (!plan_.fail) co_return true;
  if (script.close_before_response) {
    writer_.ResetConnection();
    co_return false;
  }
  if (script.hang) {
    co_await writer_.WaitUntilClientGone();
    co_return false;
  }
  if (script.status != 200) {
    co_await SendScriptedError();
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> Exchange::SendScriptedError() {
  const FakeScript& script = plan_.script;
  http::Response response(static_cast<bhttp::status>(script.status), 11);
  response.set(bhttp::field::content_type,
               script.has_body ? Or(script.content_type, kJsonContentType) : kJsonContentType);
  SetHeaders(response.base(), script.status, /*scripted=*/true);
  std::string& body = response.body();
  if (script.error_array) body.push_back('[');
  if (script.has_body) {
    body.append(script.body);
  } else {
    ApiError error = api_.DefaultError(script.status);
    error.message = Or(script.error_message, error.message);
    error.type = Or(script.error_type, error.type);
    error.code = Or(script.error_code, error.code);
    api_.AppendErrorBody(error, ResponseMeta{request_id_, script.status, retry_after_}, body);
  }
  if (script.error_array) body.push_back(']');
  (void)co_await writer_.Send(std::move(response));
}

asio::awaitable<void> Exchange::SendError(const ApiError& error) {
  http::Response response(static_cast<bhttp::status>(error.status), 11);
  response.set(bhttp::field::content_type, kJsonContentType);
  SetHeaders(response.base(), error.status, /*scripted=*/false);
  api_.AppendErrorBody(error, ResponseMeta{request_id_, error.status, {}}, response.body());
  (void)co_await writer_.Send(std::move(response));
}

asio::awaitable<void> Exchange::SendBody(std::string body, std::string_view content_type) {
  const FakeScript& script = plan_.script;
  if (plan_.fail && script.reset_after_events >= 0) {
    // Non-streaming bodies break halfway through instead of after N events.
    bhttp::response_header<> head;
    head.result(bhttp::status::ok);
    head.set(bhttp::field::content_type, content_type);
    SetHeaders(head, 200, /*scripted=*/true);
    if (!(co_await writer_.StartStream(std::move(head), {})).ok()) co_return;
    (void)co_await writer_.Write(std::string_view(body).substr(0, body.size() / 2));
    writer_.ResetConnection();
    co_return;
  }
  if (plan_.fail && script.error_after_events >= 0) {
    body.clear();
    api_.AppendErrorBody(ScriptedStreamError(), ResponseMeta{request_id_, 200, retry_after_},
                         body);
  } else if (plan_.fail && script.malformed) {
    body.resize(body.size() / 2);
  }
  http::Response response(bhttp::status::ok, 11);
  response.set(bhttp::field::content_type, content_type);
  response.body() = std::move(body);
  SetHeaders(response.base(), 200, /*scripted=*/true);
  (void)co_await writer_.Send(std::move(response));
}

asio::awaitable<void> Exchange::Stream(std::string_view content_type, const EventSource& events) {
  const FakeScript& script = plan_.script;
  bhttp::response_header<> head;
  head.result(bhttp::status::ok);
  head.set(bhttp::field::content_type, content_type);
  head.set(bhttp::field::cache_control, "no-cache");
  SetHeaders(head, 200, /*scripted=*/true);
  if (!(co_await writer_.StartStream(std::move(head), {})).ok()) co_return;

  const std::string_view keep_alive = events.KeepAlive();
  for (int64_t i = 0; i < script.keep_alive_comments && !keep_alive.empty(); ++i) {
    if (!(co_await writer_.Write(keep_alive)).ok()) co_return;
  }
  std::string event;
  if (plan_.fail && script.malformed) {
    // No last chunk after it: the stream ends abruptly.
    events.RenderMalformed(event);
    (void)co_await writer_.Write(event);
    co_return;
  }
  const size_t total = events.size();
  const bool reset = plan_.fail && script.reset_after_events >= 0;
  const bool error = !reset && plan_.fail && script.error_after_events >= 0;
  size_t limit = total;
  if (reset) limit = std::min<size_t>(total, static_cast<size_t>(script.reset_after_events));
  // An error event never follows the last event: that one ends the stream.
  if (error) {
    limit = std::min<size_t>(total == 0 ? 0 : total - 1,
                             static_cast<size_t>(script.error_after_events));
  }

  const size_t content_begin = events.content_begin();
  const size_t content_end = events.content_end();
  for (size_t i = 0; i < limit; ++i) {
    if (i == content_begin && i < content_end) {
      if (!co_await Delay(script.first_chunk_ms)) co_return;
    } else if (i > content_begin && i < content_end) {
      if (!co_await Delay(script.chunk_interval_ms)) co_return;
    }
    events.Render(i, event);
    if (!(co_await writer_.Write(event)).ok()) co_return;
  }
  if (reset) {
    writer_.ResetConnection();
    co_return;
  }
  if (error) {
    events.RenderError(limit, ScriptedStreamError(), event);
    if (!(co_await writer_.Write(event)).ok()) co_return;
  }
  (void)co_await writer_.Finish();
}

}  // namespace llmesh::fakes
