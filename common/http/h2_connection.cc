#include "common/http/h2_connection.h"

#include <charconv>
#include <exception>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/http/connection.h"
#include "common/http/server_state.h"

namespace llmesh::http::internal {
namespace {

namespace bhttp = boost::beast::http;
constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);
// Recycled stream objects kept per connection; more are freed.
constexpr size_t kMaxSpareStreams = 16;
// RFC 9113 §6.5.2: each header field counts its name, its value and 32 bytes of overhead.
constexpr size_t kHeaderFieldOverhead = 32;

bool IsRequestHeaders(const nghttp2_frame& frame) {
  return frame.hd.type == NGHTTP2_HEADERS && frame.headers.cat == NGHTTP2_HCAT_REQUEST;
}

}  // namespace

http2::SessionOptions H2Connection::SessionOptionsFor(const ServerState& server) {
  http2::SessionOptions options;
  options.max_concurrent_streams = server.options.limits.max_concurrent_streams;
  options.max_header_list_bytes = server.options.limits.max_header_bytes;
  return options;
}

H2Connection::~H2Connection() {
  // Serve has returned, so no stream coroutine runs; what is left is only memory.
  while (!live_.empty()) {
    H2Stream& stream = live_.front();
    live_.pop_front();
    delete &stream;
  }
}

const ServerLimits& H2Connection::limits() const { return server_.options.limits; }

asio::awaitable<void> H2Connection::Serve(std::string_view already_read) {
  // The ending below must wait for the handlers even after a Stop cancelled this coroutine.
  co_await asio::this_coro::throw_if_cancelled(false);
  if (worker_.draining) GoAway();
  UpdateIdleDeadline();
  co_await Run(already_read);
  idle_.Clear();
  for (H2Stream& stream : live_) stream.OnSessionEnded();
  // Bounded: each stream coroutine ends once its handler sees the closed stream (or is
  // cancelled by ForceClose).
  while (running_ > 0) {
    serve_waiting_ = true;
    streams_done_.expires_at(asio::steady_timer::time_point::max());
    co_await streams_done_.async_wait(kUseAwaitable);
    serve_waiting_ = false;
  }
}

void H2Connection::Drain() { GoAway(); }

void H2Connection::ForceClose() {
  for (H2Stream& stream : live_) {
    if (stream.dispatched && !stream.coroutine_done) {
      stream.cancel.emit(asio::cancellation_type::terminal);
    }
  }
  Close();
}

H2Stream* H2Connection::StreamOf(int32_t stream_id) const {
  return static_cast<H2Stream*>(stream_user_data(stream_id));
}

int H2Connection::OnBeginHeaders(const nghttp2_frame& frame) {
  if (!IsRequestHeaders(frame)) return 0;
  H2Stream* stream;
  if (spare_.empty()) {
    stream = new H2Stream(*this);
  } else {
    stream = spare_.back().release();
    spare_.pop_back();
  }
  stream->Begin(frame.hd.stream_id);
  stream->began = IoDeadline::Clock::now();
  live_.push_back(*stream);
  nghttp2_session_set_stream_user_data(native(), frame.hd.stream_id, stream);
  ++open_streams_;
  UpdateIdleDeadline();
  return 0;
}

int H2Connection::OnHeader(const nghttp2_frame& frame, std::string_view name,
                           std::string_view value) {
  H2Stream* stream = StreamOf(frame.hd.stream_id);
  // Trailers of a request carry nothing a handler reads.
  if (stream == nullptr || !IsRequestHeaders(frame) || stream->reject != bhttp::status{}) return 0;
  stream->header_bytes += name.size() + value.size() + kHeaderFieldOverhead;
  if (stream->header_bytes > limits().max_header_bytes) {
    stream->reject = bhttp::status::request_header_fields_too_large;
    stream->reject_reason = "request header fields too large";
    return 0;
  }
  // Beast throws for a field it cannot store (over 64 KiB) or out of memory; an exception must
  // not unwind through nghttp2's C frames.
  try {
    Request& request = stream->request();
    if (name.starts_with(':')) {
      if (name == ":method") {
        request.method_string(value);
      } else if (name == ":path") {
        request.target(value);
      } else if (name == ":authority") {
        request.set(bhttp::field::host, value);
      }
    } else if (name == "host") {
      request.set(bhttp::field::host, value);
    } else {
      request.insert(name, value);
    }
  } catch (const std::exception&) {
    stream->reject = bhttp::status::request_header_fields_too_large;
    stream->reject_reason = "request header field too large";
  }
  return 0;
}

int H2Connection::OnFrame(const nghttp2_frame& frame) {
  const bool end_stream = (frame.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (frame.hd.type != NGHTTP2_HEADERS && frame.hd.type != NGHTTP2_DATA) return 0;
  H2Stream* stream = StreamOf(frame.hd.stream_id);
  if (stream != nullptr && end_stream) stream->request_ended = true;
  if (stream == nullptr || stream->dispatched) return 0;
  if (IsRequestHeaders(frame)) {
    if (stream->reject != bhttp::status{}) {
      Dispatch(*stream);
      return 0;
    }
    const std::string_view length = stream->request()[bhttp::field::content_length];
    if (!length.empty()) {
      uint64_t announced = 0;
      const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), announced);
      // nghttp2 has checked that content-length is a number matching the DATA received.
      if (ec == std::errc() && announced > limits().max_body_bytes) {
        Refuse(*stream, bhttp::status::payload_too_large, "request body too large");
        return 0;
      }
      if (ec == std::errc()) stream->request().body().reserve(announced);
    }
  }
  if (end_stream) Dispatch(*stream);
  return 0;
}

int H2Connection::OnData(int32_t stream_id, std::string_view data) {
  // The bytes are copied into the request (or dropped) right here, so the window reopens now;
  // max_body_bytes bounds what one stream can make us hold.
  Consume(stream_id, data.size());
  H2Stream* stream = StreamOf(stream_id);
  if (stream == nullptr || stream->dispatched) return 0;
  std::string& body = stream->request().body();
  if (body.size() + data.size() > limits().max_body_bytes) {
    Refuse(*stream, bhttp::status::payload_too_large, "request body too large");
    return 0;
  }
  body.append(data);
  return 0;
}

int H2Connection::OnStreamClose(int32_t stream_id, uint32_t error_code) {
  H2Stream* stream = StreamOf(stream_id);
  if (stream == nullptr) return 0;
  nghttp2_session_set_stream_user_data(native(), stream_id, nullptr);
  stream->OnClosed(error_code);
  --open_streams_;
  UpdateIdleDeadline();
  if (!stream->dispatched || stream->coroutine_done) Release(*stream);
  return 0;
}

void H2Connection::OnBodyWritten(http2::OutboundBody& body) {
  // The body is the first thing the streams' writers wait on; find its stream from it.
  H2Stream* stream = StreamOf(body.stream_id);
  if (stream != nullptr) {
    stream->OnBodyWritten();
    return;
  }
  // A closed stream (user data already cleared) may still wait for its last batch.
  for (H2Stream& each : live_) {
    if (&each.body() == &body) {
      each.OnBodyWritten();
      return;
    }
  }
}

void H2Connection::Refuse(H2Stream& stream, bhttp::status status, std::string_view reason) {
  stream.reject = status;
  stream.reject_reason = reason;
  Dispatch(stream);
}

void H2Connection::Dispatch(H2Stream& stream) {
  stream.dispatched = true;
  ++running_;
  UpdateIdleDeadline();
  // Posted: Dispatch runs inside nghttp2's callbacks, and co_spawn would start the handler
  // right there. Serve waits for running_, so the connection outlives the posted start.
  asio::post(transport().socket().get_executor(), [this, &stream] {
    // Closed meanwhile (ForceClose found no handler to cancel yet): nothing may start now.
    if (closed()) {
      OnStreamCoroutineEnded(stream);
      return;
    }
    asio::co_spawn(transport().socket().get_executor(), RunStream(stream),
                   asio::bind_cancellation_slot(stream.cancel.slot(), [this, &stream](std::exception_ptr) {
                     OnStreamCoroutineEnded(stream);
                   }));
  });
}

asio::awaitable<void> H2Connection::RunStream(H2Stream& stream) {
  try {
    if (stream.reject != bhttp::status{}) {
      co_await stream.SendReject(stream.reject, stream.reject_reason);
    } else {
      bool handler_threw = false;
      try {
        co_await worker_.handler->Handle(stream.request(), stream);
      } catch (const std::exception&) {
        handler_threw = true;
      }
      if (handler_threw && !stream.started() && !worker_.stopped) {
        co_await stream.SendReject(bhttp::status::internal_server_error, "internal error");
      }
    }
    co_await stream.Settle();
  } catch (const std::exception&) {
    // Cancelled by ForceClose: the session is closed, so no write references the stream.
  }
}

void H2Connection::OnStreamCoroutineEnded(H2Stream& stream) {
  stream.coroutine_done = true;
  if (stream.closed || closed()) Release(stream);
  --running_;
  if (running_ == 0 && serve_waiting_) {
    serve_waiting_ = false;
    streams_done_.cancel();
  }
}

void H2Connection::Release(H2Stream& stream) {
  stream.unlink();
  if (spare_.size() < kMaxSpareStreams) {
    spare_.emplace_back(&stream);
  } else {
    delete &stream;
  }
}

void H2Connection::UpdateIdleDeadline() {
  if (open_streams_ == 0) {
    idle_.Set(IoDeadline::Clock::now() + limits().client_timeout);
    return;
  }
  // A request still being read is bounded as on HTTP/1.1: client_timeout from its first byte.
  // Streams are listed in the order they began, so the first one still read is the oldest.
  for (const H2Stream& each : live_) {
    if (!each.dispatched && !each.closed) {
      idle_.Set(each.began + limits().client_timeout);
      return;
    }
  }
  idle_.Clear();
}

void H2Connection::OnIdleTimeout() {
  if (open_streams_ > 0) {
    const IoDeadline::Clock::time_point now = IoDeadline::Clock::now();
    // Refuse posts each stream's coroutine, so live_ does not change during the loop.
    for (H2Stream& each : live_) {
      if (!each.dispatched && !each.closed && each.began + limits().client_timeout <= now) {
        Refuse(each, bhttp::status::request_timeout, "request not received in time");
      }
    }
    UpdateIdleDeadline();
    Flush();
    return;
  }
  if (idle_goaway_sent_) {
    // The client did not even take the GOAWAY.
    Close();
    return;
  }
  idle_goaway_sent_ = true;
  GoAway();
  idle_.Set(IoDeadline::Clock::now() + limits().client_timeout);
}

}  // namespace llmesh::http::internal
