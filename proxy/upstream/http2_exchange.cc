#include "proxy/upstream/http2_exchange.h"

#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "proxy/upstream/connection.h"
#include "proxy/upstream/http2_connection.h"

namespace llmesh::upstream {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

}  // namespace

Http2Exchange::Http2Exchange(internal::Http2Connection& connection, internal::Http2Stream& stream)
    : connection_(connection), stream_(stream) {}

Http2Exchange::~Http2Exchange() { connection_.Abandon(stream_); }

unsigned Http2Exchange::status() const { return stream_.head.result_int(); }

const http::response_header<>& Http2Exchange::head() const { return stream_.head; }

bool Http2Exchange::reused_connection() const { return stream_.ordinal > 0; }

absl::Status Http2Exchange::Failed(absl::Status status) {
  state_ = State::kFailed;
  return status;
}

asio::awaitable<absl::Status> Http2Exchange::Wait(MonoTime deadline, std::string_view activity) {
  const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
  if (internal::CancellationRequested(cancellation)) {
    co_return absl::CancelledError(absl::StrCat("upstream ", connection_.endpoint().Authority(),
                                                ": cancelled while ", AbslView(activity)));
  }
  // The connection cancels the timer whenever the stream's state changes.
  stream_.wake.expires_at(deadline);
  stream_.reader_waiting = true;
  auto [ec] = co_await stream_.wake.async_wait(kAwait);
  stream_.reader_waiting = false;
  if (internal::CancellationRequested(cancellation)) {
    co_return absl::CancelledError(absl::StrCat("upstream ", connection_.endpoint().Authority(),
                                                ": cancelled while ", AbslView(activity)));
  }
  if (!ec) {
    co_return absl::DeadlineExceededError(absl::StrCat("upstream ", connection_.endpoint().Authority(),
                                                       ": deadline passed while ", AbslView(activity)));
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> Http2Exchange::ReadHead(MonoTime deadline) {
  if (state_ != State::kHeadPending) co_return absl::FailedPreconditionError("ReadHead called twice");
  // Each round either finds the head or an error, or waits for a change bounded by the deadline.
  for (;;) {
    if (stream_.head_done) {
      state_ = stream_.end_stream && stream_.received.empty() ? State::kComplete : State::kBody;
      co_return absl::OkStatus();
    }
    if (!stream_.error.ok()) co_return Failed(stream_.error);
    if (absl::Status s = co_await Wait(deadline, "reading the response head"); !s.ok()) co_return Failed(s);
  }
}

asio::awaitable<absl::StatusOr<std::string_view>> Http2Exchange::ReadSome(MonoTime deadline) {
  switch (state_) {
    case State::kComplete:
      co_return std::string_view();
    case State::kBody:
      break;
    case State::kHeadPending:
      co_return absl::FailedPreconditionError("ReadSome before ReadHead");
    case State::kFailed:
      co_return absl::FailedPreconditionError("exchange already failed");
  }
  // As in ReadHead: every round returns or waits on the deadline.
  for (;;) {
    if (!stream_.received.empty()) {
      connection_.Take(stream_);
      if (stream_.end_stream) state_ = State::kComplete;
      co_return std::string_view(stream_.taken);
    }
    if (stream_.end_stream) {
      state_ = State::kComplete;
      co_return std::string_view();
    }
    if (!stream_.error.ok()) co_return Failed(stream_.error);
    if (absl::Status s = co_await Wait(deadline, "reading the response body"); !s.ok()) co_return Failed(s);
  }
}

std::optional<uint64_t> Http2Exchange::AnnouncedBodyBytes() const {
  uint64_t length = 0;
  if (state_ != State::kBody) return std::nullopt;
  auto field = stream_.head.find(http::field::content_length);
  if (field == stream_.head.end() || !absl::SimpleAtoi(AbslView(field->value()), &length)) return std::nullopt;
  return length;
}

void Http2Exchange::AppendPiece(std::string_view piece, std::string& body) {
  if (body.empty()) {
    // The first piece (often the whole body) changes hands instead of being copied; the stream
    // keeps `body`'s buffer for its next piece.
    body.swap(stream_.taken);
  } else {
    body.append(piece);
  }
}

}  // namespace llmesh::upstream
