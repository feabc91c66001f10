#include "proxy/upstream/http1_exchange.h"

#include <algorithm>
#include <utility>

#include <boost/beast/http/verb.hpp>

#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/this_coro.hpp>

#include "absl/strings/str_cat.h"
#include "proxy/upstream/pool.h"

namespace llmesh::upstream {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

// Provider response heads run to a few KiB (rate-limit and tracing headers); Beast's 8 KiB
// default is too tight.
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
// One resend plus this many 1xx interim heads before the real one.
constexpr int kMaxHeadRounds = 8;

absl::Status Cancelled() { return absl::CancelledError("upstream exchange cancelled"); }

}  // namespace

Http1Exchange::Http1Exchange(UpstreamPool& pool, std::unique_ptr<internal::Connection> connection,
                             internal::Request request, bool may_resend, Duration connect_budget, Duration write_budget)
    : pool_(pool),
      connection_(std::move(connection)),
      connect_budget_(connect_budget),
      write_budget_(write_budget),
      may_resend_(may_resend),
      head_request_(request.method() == http::verb::head),
      request_keep_alive_(request.keep_alive()) {
  request_.emplace(std::move(request));
  ResetParser();
}

Http1Exchange::~Http1Exchange() {
  if (connection_ == nullptr) return;
  // Leftover bytes after a complete response mean the peer is out of step with us: never reuse.
  if (state_ == State::kComplete && request_keep_alive_ && parser_->keep_alive() && connection_->buffer().size() == 0) {
    pool_.Release(std::move(connection_));
  } else {
    connection_->Close();
  }
}

void Http1Exchange::ResetParser() {
  parser_.emplace();
  parser_->header_limit(kHeaderLimit);
  parser_->skip(head_request_);
}

asio::awaitable<absl::Status> Http1Exchange::ReadHead(MonoTime deadline) {
  if (state_ != State::kHeadPending) co_return absl::FailedPreconditionError("ReadHead called twice");
  // Stays kFailed unless the head arrives, so an error or an exception closes the connection.
  state_ = State::kFailed;
  const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
  for (int round = 0; round < kMaxHeadRounds; ++round) {
    if (internal::CancellationRequested(cancellation)) co_return Cancelled();
    const beast::error_code ec = co_await connection_->ReadHeader(*parser_, deadline);
    if (ec) {
      const bool nothing_received = !parser_->got_some() && connection_->buffer().size() == 0;
      if (may_resend_ && nothing_received && internal::IsPeerGone(ec)) {
        may_resend_ = false;
        absl::Status resent = co_await Resend(deadline);
        if (!resent.ok()) co_return resent;
        continue;
      }
      co_return internal::ExchangeError(ec, connection_->endpoint(), "reading the response head");
    }
    const unsigned status = parser_->status();
    if (status >= 100 && status < 200 && status != 101) {
      ResetParser();
      continue;
    }
    request_.reset();  // a prompt can be large; it is not needed any more
    may_resend_ = false;
    state_ = parser_->is_done() ? State::kComplete : State::kBody;
    co_return absl::OkStatus();
  }
  co_return absl::InternalError(
      absl::StrCat("upstream ", connection_->endpoint().Authority(), ": too many interim (1xx) responses"));
}

asio::awaitable<absl::Status> Http1Exchange::Resend(MonoTime deadline) {
  Endpoint endpoint = connection_->endpoint();
  connection_->Close();
  connection_.reset();
  const MonoTime now = std::chrono::steady_clock::now();
  const MonoTime connect_deadline = std::min(now + connect_budget_, deadline);
  const MonoTime write_deadline = std::min(now + write_budget_, deadline);
  absl::StatusOr<std::unique_ptr<internal::Connection>> opened = co_await pool_.Open(endpoint, connect_deadline);
  if (!opened.ok()) co_return opened.status();
  connection_ = *std::move(opened);
  const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
  if (internal::CancellationRequested(cancellation)) co_return Cancelled();
  const beast::error_code ec = co_await connection_->Write(*request_, write_deadline);
  if (ec) co_return internal::ExchangeError(ec, endpoint, "writing the request");
  ResetParser();
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<std::string_view>> Http1Exchange::ReadSome(MonoTime deadline) {
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
  state_ = State::kFailed;
  const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
  // Each step consumes buffered bytes or waits for the socket, so the deadline bounds the loop;
  // steps that only consume chunk framing yield no piece.
  for (;;) {
    if (internal::CancellationRequested(cancellation)) co_return Cancelled();
    const beast::error_code ec = co_await connection_->ReadBodyPiece(*parser_, deadline);
    if (ec) co_return internal::ExchangeError(ec, connection_->endpoint(), "reading the response body");
    const std::string_view piece = parser_->piece();
    state_ = parser_->is_done() ? State::kComplete : State::kBody;
    if (!piece.empty() || state_ == State::kComplete) co_return piece;
  }
}

std::optional<uint64_t> Http1Exchange::AnnouncedBodyBytes() const {
  if (state_ != State::kBody) return std::nullopt;
  const boost::optional<std::uint64_t> remaining = parser_->content_length_remaining();
  if (!remaining) return std::nullopt;
  return *remaining;
}

}  // namespace llmesh::upstream
