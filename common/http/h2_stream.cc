#include <charconv>
#include <exception>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/http/h2_connection.h"
#include "common/http/connection.h"
#include "common/http/server_state.h"

namespace llmesh::http::internal {
namespace {

namespace bhttp = boost::beast::http;
constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);

absl::Status StreamGone() { return absl::UnavailableError("client stream closed"); }

}  // namespace

H2Stream::H2Stream(H2Connection& connection)
    : connection_(connection),
      write_wake_(connection.transport().socket().get_executor()),
      gone_wake_(connection.transport().socket().get_executor()) {}

void H2Stream::Begin(int32_t id) {
  id_ = id;
  request_ = {};
  request_.version(20);
  response_ = {};
  body_ = {};
  header_bytes = 0;
  reject = {};
  reject_reason = {};
  dispatched = false;
  request_ended = false;
  coroutine_done = false;
  closed = false;
  close_code_ = 0;
  started_ = false;
  streaming_ = false;
  complete_ = false;
}

absl::Status H2Stream::SubmitHead(const bhttp::response_header<>& head, bool with_body,
                                  std::string_view content_length) {
  http2::HeaderList& headers = connection_.header_list();
  headers.Clear();
  // Status codes are three digits (RFC 9110 §15); Beast keeps any int, so bound it.
  const unsigned status = std::min(head.result_int(), 999u);
  std::array<char, 3> status_text = {static_cast<char>('0' + status / 100),
                                     static_cast<char>('0' + status / 10 % 10),
                                     static_cast<char>('0' + status % 10)};
  headers.AddLowercase(":status", std::string_view(status_text.data(), status_text.size()));
  headers.AddFields(head, bhttp::field::content_length);
  if (!content_length.empty()) headers.AddLowercase("content-length", content_length);
  return connection_.SubmitResponse(id_, headers.entries(), with_body ? &body_ : nullptr);
}

asio::awaitable<absl::Status> H2Stream::Send(Response response) {
  if (started_) co_return absl::FailedPreconditionError("response already started");
  started_ = true;
  if (closed || connection_.closed()) co_return StreamGone();
  response_ = std::move(response);
  const bool with_body = !response_.body().empty() && request_.method() != bhttp::verb::head;
  const auto [end, ec] = std::to_chars(content_length_.data(),
                                       content_length_.data() + content_length_.size(),
                                       response_.body().size());
  const std::string_view content_length(content_length_.data(), end - content_length_.data());
  if (with_body) {
    body_.pending = response_.body();
    body_.end_stream = true;
  }
  if (absl::Status status = SubmitHead(response_.base(), with_body, content_length); !status.ok()) {
    co_return status;
  }
  // Without a body the HEADERS frame ends the stream; nghttp2 copied it. (No co_await inside
  // a conditional expression: GCC 12 mishandles the temporaries of such a coroutine.)
  absl::Status status;
  if (with_body) status = co_await AwaitBody();
  complete_ = status.ok();
  co_return status;
}

asio::awaitable<absl::Status> H2Stream::StartStream(bhttp::response_header<> head,
                                                    std::string_view first_bytes) {
  if (started_) co_return absl::FailedPreconditionError("response already started");
  started_ = true;
  streaming_ = true;
  if (closed || connection_.closed()) co_return StreamGone();
  // The body is deferred until Write or Finish hands it bytes; the HEADERS go out now, with the
  // first DATA in the same flush (the writer runs after this submission).
  if (absl::Status status = SubmitHead(head, /*with_body=*/true, {}); !status.ok()) co_return status;
  co_return co_await Write(first_bytes);
}

asio::awaitable<absl::Status> H2Stream::Write(std::string_view data) {
  if (!streaming_ || complete_) co_return absl::FailedPreconditionError("no open stream");
  if (data.empty()) co_return absl::OkStatus();
  if (closed || connection_.closed()) co_return StreamGone();
  body_.pending = data;
  connection_.ResumeBody(body_);
  co_return co_await AwaitBody();
}

asio::awaitable<absl::Status> H2Stream::FinishWith(std::string_view last) {
  if (!streaming_ || complete_) co_return absl::FailedPreconditionError("no open stream");
  if (closed || connection_.closed()) co_return StreamGone();
  body_.pending = last;
  body_.end_stream = true;
  connection_.ResumeBody(body_);
  absl::Status status = co_await AwaitBody();
  complete_ = status.ok();
  co_return status;
}

bool H2Stream::InFlight() const {
  return !connection_.closed() && body_.last_batch > connection_.written_batches();
}

asio::awaitable<absl::Status> H2Stream::AwaitBody() {
  const Clock::time_point deadline = Clock::now() + connection_.limits().client_timeout;
  // Bounded: every round waits for an event or the deadline, which ends the loop.
  while (true) {
    const bool framed = body_.pending.empty() && (!body_.end_stream || body_.end_stream_framed);
    if (framed && !InFlight()) {
      co_return connection_.closed() && body_.last_batch > connection_.written_batches()
                    ? StreamGone()
                    : absl::OkStatus();
    }
    if (connection_.closed()) co_return StreamGone();
    if (closed && (close_code_ != NGHTTP2_NO_ERROR || !framed)) {
      // Reset (even with NO_ERROR before our body was all framed): nothing more is framed, but
      // a write in flight may still hold our bytes. A clean close after the last frame only
      // waits for that write, above.
      body_.pending = {};
      co_await AwaitInFlight(deadline);
      co_return StreamGone();
    }
    if (Clock::now() >= deadline) {
      if (InFlight()) {
        // The connection's write itself is stuck: every stream on it is.
        connection_.Close();
      } else {
        // The client stopped reading this stream (its window stays shut).
        body_.pending = {};
        connection_.ResetStream(id_, NGHTTP2_CANCEL);
      }
      co_return absl::UnavailableError("client write timed out");
    }
    co_await WaitForWake(deadline);
  }
}

asio::awaitable<void> H2Stream::AwaitInFlight(Clock::time_point deadline) {
  while (InFlight()) {
    if (Clock::now() >= deadline) {
      connection_.Close();
      co_return;
    }
    co_await WaitForWake(deadline);
  }
}

asio::awaitable<void> H2Stream::WaitForWake(Clock::time_point deadline) {
  write_waiting_ = true;
  write_wake_.expires_at(deadline);
  co_await write_wake_.async_wait(kUseAwaitable);
  write_waiting_ = false;
}

void H2Stream::WakeWriter() {
  if (!write_waiting_) return;
  write_waiting_ = false;
  write_wake_.cancel();
}

asio::awaitable<void> H2Stream::WaitUntilClientGone() {
  // Bounded: each round ends on a close, the session's end or cancellation.
  while (!closed && !connection_.closed()) {
    gone_waiting_ = true;
    gone_wake_.expires_at(asio::steady_timer::time_point::max());
    co_await gone_wake_.async_wait(kUseAwaitable);
    gone_waiting_ = false;
    const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) co_return;
  }
}

void H2Stream::ResetConnection() {
  complete_ = false;
  body_.pending = {};
  connection_.ResetStream(id_, NGHTTP2_INTERNAL_ERROR);
}

asio::awaitable<void> H2Stream::SendReject(bhttp::status status, std::string_view reason) {
  if (started_ || closed || connection_.closed()) co_return;
  Response response = connection_.worker().handler->Reject(status, reason, request_.target());
  co_await Send(std::move(response));
}

asio::awaitable<void> H2Stream::Settle() {
  if (!complete_ && !closed && !connection_.closed()) {
    body_.pending = {};
    connection_.ResetStream(id_, NGHTTP2_INTERNAL_ERROR);
  }
  co_await AwaitInFlight(Clock::now() + connection_.limits().client_timeout);
  // A complete answer to a request the client is still sending (413, 408): RFC 9113 §8.1 asks
  // for RST_STREAM NO_ERROR, sent only now because nghttp2 would drop DATA still queued.
  if (complete_ && !request_ended && !closed && !connection_.closed()) {
    connection_.ResetStream(id_, NGHTTP2_NO_ERROR);
  }
}

void H2Stream::OnClosed(uint32_t error_code) {
  closed = true;
  close_code_ = error_code;
  WakeWriter();
  if (gone_waiting_) {
    gone_waiting_ = false;
    gone_wake_.cancel();
  }
}

void H2Stream::OnSessionEnded() { OnClosed(closed ? close_code_ : static_cast<uint32_t>(NGHTTP2_CANCEL)); }

}  // namespace llmesh::http::internal
