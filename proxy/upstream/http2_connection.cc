#include "proxy/upstream/http2_connection.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <limits>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "proxy/upstream/http2_exchange.h"

namespace llmesh::upstream::internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// Same limit as the HTTP/1.1 parser's: provider heads run to a few KiB.
constexpr size_t kHeaderLimit = 64 * 1024;
// How long a connection that sent GOAWAY for idleness waits for the peer to finish the close
// before dropping the socket (a peer that stopped reading must not keep it forever).
constexpr Duration kGoAwayGrace = std::chrono::seconds(5);
// The idle check's period while streams are open, for idle timeouts shorter than this.
constexpr Duration kBusyRecheck = std::chrono::milliseconds(50);

MonoTime Now() { return std::chrono::steady_clock::now(); }

std::unique_ptr<http2::Transport> TransportFor(Connection& connection) {
  if (TlsStream* tls = connection.tls_stream()) return std::make_unique<http2::TlsTransport>(*tls);
  return std::make_unique<http2::TcpTransport>(connection.socket());
}

std::string_view ErrorName(uint32_t error_code) {
  return nghttp2_http2_strerror(error_code);
}

}  // namespace

void Http2Stream::Reset() {
  id = 0;
  ordinal = 0;
  body = http2::OutboundBody{};
  request_body.clear();
  head = {};
  head_bytes = 0;
  received.clear();
  taken.clear();
  reader_waiting = false;
  head_done = false;
  end_stream = false;
  closed = false;
  abandoned = false;
  error = absl::OkStatus();
  active_index = 0;
}

Http2Link::Http2Link(std::unique_ptr<Connection> opened)
    : link_connection(std::move(opened)), link_transport(TransportFor(*link_connection)) {}

Http2Connection::Http2Connection(asio::io_context& io, std::unique_ptr<Connection> opened, Duration idle_timeout,
                                 Http2ConnectionOwner* owner)
    : Http2Link(std::move(opened)),
      http2::Session(Role::kClient, *link_transport, http2::SessionOptions{}),
      io_(io),
      idle_timeout_(idle_timeout),
      owner_(owner),
      exchanges_done_(io),
      idle_since_(Now()) {}

Http2Connection::~Http2Connection() = default;

Http2Connection& Http2Connection::Start(asio::io_context& io, std::unique_ptr<Http2Connection> connection) {
  Http2Connection& self = *connection;
  // The completion handler owns the connection, so it goes away with the coroutine that uses it,
  // even when the io_context is destroyed without running it to the end.
  asio::co_spawn(io, Serve(self), [keep = std::move(connection)](std::exception_ptr) {});
  return self;
}

asio::awaitable<void> Http2Connection::Serve(Http2Connection& self) {
  using namespace asio::experimental::awaitable_operators;
  const std::variant<absl::Status, std::monostate> ended = co_await (self.Run() || self.WatchIdle());
  self.ended_ = true;
  const absl::Status status = ended.index() == 0 ? std::get<0>(ended) : absl::OkStatus();
  // Streams nghttp2 did not close before the session ended lost their connection.
  for (size_t i = 0; i < self.active_.size(); ++i) {
    Http2Stream& stream = *self.active_[i];
    if (stream.closed) continue;
    stream.closed = true;
    --self.open_streams_;
    self.Fail(stream, absl::AbortedError(absl::StrCat("upstream ", self.endpoint().Authority(),
                                                      ": connection lost: ", status.message())));
  }
  self.Retire();
  // No frame is in flight any more, so every abandoned stream can go.
  for (size_t i = self.active_.size(); i > 0; --i) self.MaybeRecycle(*self.active_[i - 1]);
  while (self.exchanges_ > 0) {
    self.exchanges_done_.expires_at(MonoTime::max());
    co_await self.exchanges_done_.async_wait(kAwait);
  }
}

asio::awaitable<void> Http2Connection::WatchIdle() {
  asio::steady_timer timer(io_);
  for (;;) {
    // While streams are open there is nothing to do but look again later (never in a tight loop,
    // whatever the timeout).
    timer.expires_at(open_streams_ == 0 ? idle_since_ + idle_timeout_
                                        : Now() + std::max<Duration>(idle_timeout_, kBusyRecheck));
    auto [ec] = co_await timer.async_wait(kAwait);
    if (ec) co_return;  // the session ended
    if (open_streams_ == 0 && !going_away_ && Now() - idle_since_ >= idle_timeout_) break;
  }
  going_away_ = true;
  Retire();
  GoAway();
  timer.expires_after(kGoAwayGrace);
  if (auto [ec] = co_await timer.async_wait(kAwait); ec) co_return;
  Close();
  timer.expires_at(MonoTime::max());
  co_await timer.async_wait(kAwait);
}

bool Http2Connection::Available() const {
  return !ended_ && !going_away_ && can_open_stream() && open_streams_ < remote_max_concurrent_streams();
}

absl::StatusOr<std::unique_ptr<Exchange>> Http2Connection::StartStream(Request& request) {
  if (!Available()) {
    return absl::UnavailableError(
        absl::StrCat("upstream ", endpoint().Authority(), ": HTTP/2 connection is full or closing"));
  }
  Http2Stream* stream = nullptr;
  if (!free_.empty()) {
    stream = free_.back();
    free_.pop_back();
  } else {
    streams_.push_back(std::make_unique<Http2Stream>(io_));
    stream = streams_.back().get();
  }

  headers_.Clear();
  headers_.AddLowercase(":method", request.method_string());
  headers_.AddLowercase(":scheme", endpoint().tls ? "https" : "http");
  std::string fallback_authority;
  std::string_view authority;
  if (auto host = request.find(http::field::host); host != request.end()) {
    authority = host->value();
  } else {
    fallback_authority = endpoint().HostHeader();
    authority = fallback_authority;
  }
  headers_.AddLowercase(":authority", authority);
  headers_.AddLowercase(":path", request.target());
  headers_.AddFields(request);

  stream->request_body.swap(request.body());
  http2::OutboundBody* body = nullptr;
  if (!stream->request_body.empty()) {
    stream->body.pending = stream->request_body;
    stream->body.end_stream = true;
    body = &stream->body;
  }
  absl::StatusOr<int32_t> id = SubmitRequest(headers_.entries(), body, stream);
  if (!id.ok()) {
    request.body().swap(stream->request_body);
    stream->Reset();
    free_.push_back(stream);
    return absl::UnavailableError(
        absl::StrCat("upstream ", endpoint().Authority(), ": cannot open an HTTP/2 stream: ", id.status().message()));
  }
  request.body().clear();
  stream->id = *id;
  stream->ordinal = streams_started_++;
  stream->active_index = active_.size();
  active_.push_back(stream);
  ++open_streams_;
  ++exchanges_;
  return std::unique_ptr<Exchange>(new Http2Exchange(*this, *stream));
}

void Http2Connection::Take(Http2Stream& stream) {
  stream.taken.clear();
  stream.taken.swap(stream.received);
  // The reader holds the bytes now: let the upstream send more in their place.
  if (!ended_) Consume(stream.id, stream.taken.size());
}

void Http2Connection::Abandon(Http2Stream& stream) {
  stream.abandoned = true;
  if (!ended_ && !stream.closed) ResetStream(stream.id, NGHTTP2_CANCEL);
  stream.received.clear();
  MaybeRecycle(stream);
  ExchangeGone();
}

void Http2Connection::ExchangeGone() {
  --exchanges_;
  if (exchanges_ == 0 && ended_) exchanges_done_.cancel();
}

void Http2Connection::Detach() {
  owner_ = nullptr;
  retired_ = true;
  Close();
}

void Http2Connection::CloseIfIdle() {
  if (open_streams_ > 0 || ended_) return;
  going_away_ = true;
  Retire();
  GoAway();
}

Http2Stream* Http2Connection::StreamOf(int32_t stream_id) const {
  return static_cast<Http2Stream*>(stream_user_data(stream_id));
}

void Http2Connection::Fail(Http2Stream& stream, absl::Status status) {
  if (stream.error.ok()) stream.error = std::move(status);
  stream.Wake();
}

void Http2Connection::MaybeRecycle(Http2Stream& stream) {
  if (!stream.abandoned || !stream.closed) return;
  // The writer may still be sending the request body from these bytes.
  if (!ended_ && stream.body.last_batch > written_batches()) return;
  Http2Stream* last = active_.back();
  active_[stream.active_index] = last;
  last->active_index = stream.active_index;
  active_.pop_back();
  stream.Reset();
  free_.push_back(&stream);
}

void Http2Connection::Retire() {
  if (retired_) return;
  retired_ = true;
  if (owner_ != nullptr) owner_->OnHttp2ConnectionRetired(*this);
}

int Http2Connection::OnBeginHeaders(const nghttp2_frame& frame) {
  Http2Stream* stream = StreamOf(frame.hd.stream_id);
  if (stream == nullptr || stream->head_done) return 0;
  stream->head = {};
  stream->head_bytes = 0;
  return 0;
}

int Http2Connection::OnHeader(const nghttp2_frame& frame, std::string_view name, std::string_view value) {
  Http2Stream* stream = StreamOf(frame.hd.stream_id);
  // Trailers carry nothing the adapters read.
  if (stream == nullptr || stream->head_done || stream->abandoned) return 0;
  // RFC 9113 §6.5.2 counts 32 bytes of overhead per field.
  stream->head_bytes += name.size() + value.size() + 32;
  if (stream->head_bytes > kHeaderLimit) {
    Fail(*stream, absl::InternalError(absl::StrCat("upstream ", endpoint().Authority(),
                                                   ": response head larger than ", kHeaderLimit, " bytes")));
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  if (name == ":status") {
    unsigned status = 0;
    // nghttp2 has checked that it is three digits.
    if (!absl::SimpleAtoi(AbslView(value), &status)) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    stream->head.result(status);
    stream->head.version(20);
    return 0;
  }
  if (name.starts_with(':')) return 0;
  try {
    stream->head.insert(name, value);
  } catch (const std::exception&) {
    Fail(*stream, absl::InternalError(absl::StrCat("upstream ", endpoint().Authority(), ": bad response field")));
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return 0;
}

int Http2Connection::OnFrame(const nghttp2_frame& frame) {
  if (frame.hd.type != NGHTTP2_HEADERS && frame.hd.type != NGHTTP2_DATA) return 0;
  Http2Stream* stream = StreamOf(frame.hd.stream_id);
  if (stream == nullptr) return 0;
  if (frame.hd.type == NGHTTP2_HEADERS && !stream->head_done) {
    const unsigned status = stream->head.result_int();
    // An interim head (100 Continue, 103 Early Hints) is followed by the real one.
    if (status >= 200 || (frame.hd.flags & NGHTTP2_FLAG_END_STREAM)) {
      stream->head_done = true;
    } else {
      stream->head = {};
      stream->head_bytes = 0;
    }
  }
  if (frame.hd.flags & NGHTTP2_FLAG_END_STREAM) stream->end_stream = true;
  if (stream->head_done || stream->end_stream) stream->Wake();
  return 0;
}

int Http2Connection::OnData(int32_t stream_id, std::string_view data) {
  Http2Stream* stream = StreamOf(stream_id);
  if (stream == nullptr) return 0;
  if (stream->abandoned) return 0;  // reset already: its window no longer matters
  stream->received.append(data);
  stream->Wake();
  return 0;
}

int Http2Connection::OnStreamClose(int32_t stream_id, uint32_t error_code) {
  Http2Stream* stream = StreamOf(stream_id);
  if (stream == nullptr) return 0;
  stream->closed = true;
  --open_streams_;
  if (open_streams_ == 0) idle_since_ = Now();
  if (!stream->end_stream && !stream->abandoned) {
    if (error_code == NGHTTP2_REFUSED_STREAM) {
      // Refused streams (and those above a GOAWAY's last stream id) were never processed.
      Fail(*stream, absl::UnavailableError(absl::StrCat("upstream ", endpoint().Authority(),
                                                        ": HTTP/2 stream refused before processing")));
    } else {
      Fail(*stream, absl::AbortedError(absl::StrCat("upstream ", endpoint().Authority(), ": HTTP/2 stream reset: ",
                                                    AbslView(ErrorName(error_code)))));
    }
  }
  stream->Wake();
  MaybeRecycle(*stream);
  return 0;
}

void Http2Connection::OnGoAway(int32_t /*last_stream_id*/, uint32_t /*error_code*/) {
  // nghttp2 closes the streams above last_stream_id with REFUSED_STREAM; those below finish.
  going_away_ = true;
  Retire();
}

void Http2Connection::OnBodyWritten(http2::OutboundBody& body) {
  // Only an abandoned stream waits for its bytes to be written; while it is open, nghttp2 still
  // knows it by id, and once closed it is among the few active ones.
  if (Http2Stream* stream = StreamOf(body.stream_id); stream != nullptr) {
    MaybeRecycle(*stream);
    return;
  }
  for (size_t i = active_.size(); i > 0; --i) {
    if (&active_[i - 1]->body == &body) {
      MaybeRecycle(*active_[i - 1]);
      return;
    }
  }
}

}  // namespace llmesh::upstream::internal
