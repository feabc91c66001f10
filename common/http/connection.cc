#include "common/http/connection.h"

#include <array>
#include <exception>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/beast/core/string.hpp>

#include "absl/strings/str_cat.h"
#include "common/http/h2_connection.h"
#include "common/http/server_state.h"
#include "common/http/server_tls.h"
#include "common/http/wire.h"
#include "common/net/write_all.h"

namespace llmesh::http::internal {
namespace {

namespace bhttp = boost::beast::http;
using boost::system::error_code;

constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);
// The first read of a request; most requests fit whole.
constexpr size_t kReadSize = 16 << 10;
// A buffer grown past this by a large request is released once the connection goes idle.
constexpr size_t kMaxIdleBufferCapacity = 1 << 20;
// After refusing a request, at most this much of its unread rest is read and discarded (and
// for at most this long) so that closing does not reset the connection before the client
// has read the refusal.
constexpr size_t kMaxLingerBytes = 4 << 20;
constexpr std::chrono::milliseconds kMaxLingerTime{1000};

absl::Status WriteError(const error_code& ec) {
  return absl::UnavailableError(absl::StrCat("client connection: ", ec.message()));
}

bool IsParseError(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::partial_message && ec != bhttp::error::end_of_stream;
}

asio::awaitable<error_code> TlsWriteAll(http2::TlsStream& stream,
                                       std::span<const asio::const_buffer> buffers) {
  auto [ec, n] = co_await asio::async_write(stream, buffers, kUseAwaitable);
  co_return ec;
}

}  // namespace

// Marks the connection as writing for the duration of one write, so the deadline bounds it.
class Connection::WriteScope {
 public:
  explicit WriteScope(Connection& connection) : connection_(connection) {
    connection_.phase_ = Phase::kWriting;
    connection_.SetDeadline(connection_.limits_.client_timeout);
  }
  ~WriteScope() {
    connection_.phase_ = Phase::kHandling;
    connection_.ClearDeadline();
  }
  WriteScope(const WriteScope&) = delete;
  WriteScope& operator=(const WriteScope&) = delete;

 private:
  Connection& connection_;
};

Connection::Connection(std::shared_ptr<ServerState> server, WorkerState& worker,
                       asio::ip::tcp::socket socket, asio::ssl::context* tls)
    : server_(std::move(server)),
      worker_(worker),
      limits_(server_->options.limits),
      plain_(tls ? std::nullopt : std::optional<asio::ip::tcp::socket>(std::move(socket))),
      tls_(tls ? std::optional<http2::TlsStream>(std::in_place, std::move(socket), *tls) : std::nullopt),
      tcp_(tls_ ? &tls_->next_layer() : &*plain_),
      deadline_(tcp_->get_executor(), [this] { OnTimeout(); }) {}

Connection::~Connection() = default;

void Connection::Spawn(std::shared_ptr<Connection> connection) {
  Connection& self = *connection;
  self.SetDeadline(self.limits_.client_timeout);
  asio::co_spawn(self.socket().get_executor(), self.Run(),
                 asio::bind_cancellation_slot(
                     self.cancel_.slot(), [keep = std::move(connection)](std::exception_ptr) {}));
}

void Connection::WakeIfIdle() {
  if (h2_) {
    h2_->Drain();
    return;
  }
  if (phase_ != Phase::kIdle) return;
  error_code ignored;
  socket().cancel(ignored);
}

void Connection::ForceClose() {
  if (ended_) return;
  if (h2_) h2_->ForceClose();
  cancel_.emit(asio::cancellation_type::terminal);
  error_code ignored;
  socket().close(ignored);
}

asio::awaitable<void> Connection::Run() {
  // Runs OnRunEnded whether the coroutine finishes or its frame is destroyed with the context.
  struct EndGuard {
    Connection* connection;
    ~EndGuard() { connection->OnRunEnded(); }
  } end_guard{this};
  try {
    const Protocol protocol = co_await ChooseProtocol();
    if (protocol == Protocol::kHttp2) {
      co_await ServeHttp2();
    } else if (protocol == Protocol::kHttp1) {
      while (co_await ServeOne()) {
      }
    }
  } catch (const std::exception&) {
    // Only a cancelled coroutine (Stop) that starts another operation gets here.
  }
}

void Connection::OnRunEnded() {
  ended_ = true;
  ClearDeadline();
  error_code ignored;
  if (socket().is_open()) {
    socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    socket().close(ignored);
  }
  unlink();
  server_->active_connections.fetch_sub(1, std::memory_order_acq_rel);
  if (worker_.drain_waiter) server_->MaybeFinishDrain(worker_.drain_waiter);
  server_->CoroutineEnded();
}

asio::awaitable<bool> Connection::ServeOne() {
  if (!co_await ReadRequest()) co_return false;
  Request& request = parser_->get();
  BeginResponse(request);
  phase_ = Phase::kHandling;
  ClearDeadline();

  bool handler_threw = false;
  try {
    co_await worker_.handler->Handle(request, *this);
  } catch (const std::exception&) {
    handler_threw = true;
  }
  if (handler_threw) {
    if (!started_ && !worker_.stopped && socket().is_open()) {
      co_await SendReject(bhttp::status::internal_server_error, "internal error");
    }
    co_return false;
  }
  if (!complete_ || !keep_alive_ || !socket().is_open()) co_return false;
  if (buffer_.size() == 0 && buffer_.capacity() > kMaxIdleBufferCapacity) buffer_.shrink_to_fit();
  co_return true;
}

asio::awaitable<bool> Connection::ReadRequest() {
  if (buffer_.size() == 0) {
    phase_ = Phase::kIdle;
    // Checked right before the read so a Drain that ran earlier is never missed; a later one
    // finds the read pending and cancels it (WakeIfIdle).
    if (worker_.draining) co_return false;
    SetDeadline(limits_.client_timeout);
    auto [ec, n] = co_await ReadSome(buffer_.prepare(kReadSize));
    if (ec) co_return false;  // closed by the client, idle timeout, drain or stop
    buffer_.commit(n);
  }
  phase_ = Phase::kReadingRequest;
  SetDeadline(limits_.client_timeout);

  parser_.emplace(limits_.max_header_bytes, limits_.max_body_bytes);
  // Usually the whole request came with the first read and is parsed in place.
  error_code ec = ParseBuffered();
  bool answered_expect = false;
  // Every round reads more or ends; the header and body limits and the deadline bound them.
  while (!ec && !parser_->is_done()) {
    if (parser_->is_header_done() && !answered_expect) {
      answered_expect = true;
      const Request& head = parser_->get();
      if (head.version() >= 11 && boost::beast::iequals(head[bhttp::field::expect], "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        const std::array<asio::const_buffer, 1> buffers = {asio::buffer(kContinue)};
        if (co_await WriteBuffers(buffers)) co_return false;
      }
    }
    size_t n = 0;
    std::tie(ec, n) = co_await ReadSome(buffer_.prepare(kReadSize));
    if (ec) break;
    buffer_.commit(n);
    ec = ParseBuffered();
  }
  if (!ec) co_return true;

  version_ = parser_->is_header_done() ? parser_->get().version() : 11;
  if (timed_out_) {
    co_await SendReject(bhttp::status::request_timeout, "request timeout");
  } else if (ec == bhttp::error::body_limit) {
    co_await SendReject(bhttp::status::payload_too_large, "request body too large");
  } else if (ec == bhttp::error::header_limit) {
    co_await SendReject(bhttp::status::request_header_fields_too_large,
                        "request header fields too large");
  } else if (IsParseError(ec)) {
    co_await SendReject(bhttp::status::bad_request, "malformed HTTP request");
  }
  co_return false;
}

error_code Connection::ParseBuffered() {
  error_code ec;
  // Bounded: every round consumes input or returns.
  while (buffer_.size() > 0 && !parser_->is_done()) {
    const size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == bhttp::error::need_more) return {};
    if (ec || used == 0) return ec;
  }
  return {};
}

asio::awaitable<void> Connection::SendReject(bhttp::status status, std::string_view reason) {
  if (worker_.stopped || !socket().is_open()) co_return;
  // The request line may be all that was read (a body over the limit is refused as soon as
  // its content-length is seen); it is empty when not even that arrived.
  const std::string_view target = parser_ ? std::string_view(parser_->get().target()) : std::string_view();
  Response response = worker_.handler->Reject(status, reason, target);
  response.version(version_ >= 10 ? version_ : 11);
  response.keep_alive(false);
  response.prepare_payload();
  timed_out_ = false;
  started_ = true;
  error_code ec;
  {
    WriteScope scope(*this);
    ec = co_await WriteResponse(response);
  }
  if (!ec) co_await LingeringClose();
}

asio::awaitable<void> Connection::LingeringClose() {
  error_code ignored;
  socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  phase_ = Phase::kReadingRequest;
  SetDeadline(std::min<std::chrono::milliseconds>(limits_.client_timeout, kMaxLingerTime));
  buffer_.clear();
  size_t discarded = 0;
  while (discarded < kMaxLingerBytes) {
    auto [ec, n] = co_await ReadSome(buffer_.prepare(kReadSize));
    if (ec) break;
    discarded += n;
  }
  ClearDeadline();
}

void Connection::BeginResponse(const Request& request) {
  version_ = request.version();
  request_keep_alive_ = request.keep_alive();
  keep_alive_ = false;
  started_ = false;
  streaming_ = false;
  chunked_ = false;
  complete_ = false;
}

asio::awaitable<absl::Status> Connection::Send(Response response) {
  if (started_) co_return absl::FailedPreconditionError("response already started");
  started_ = true;
  response.version(version_);
  const bool wanted = response.keep_alive();
  keep_alive_ = request_keep_alive_ && wanted && !worker_.draining;
  // HTTP/1.1 keeps the connection unless told otherwise; HTTP/1.0 must be told to keep it.
  if (keep_alive_ != wanted || version_ < 11) response.keep_alive(keep_alive_);
  response.prepare_payload();
  error_code ec;
  {
    WriteScope scope(*this);
    ec = co_await WriteResponse(response);
  }
  if (ec) {
    keep_alive_ = false;
    co_return WriteError(ec);
  }
  complete_ = true;
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> Connection::StartStream(bhttp::response_header<> head,
                                                      std::string_view first_bytes) {
  if (started_) co_return absl::FailedPreconditionError("response already started");
  started_ = true;
  streaming_ = true;
  bhttp::response<bhttp::empty_body> message(std::move(head));
  message.version(version_);
  // HTTP/1.0 has no chunked encoding: the body runs until the connection closes.
  chunked_ = version_ >= 11;
  keep_alive_ = chunked_ && request_keep_alive_ && message.keep_alive() && !worker_.draining;
  message.keep_alive(keep_alive_);
  message.erase(bhttp::field::content_length);
  if (chunked_) {
    message.chunked(true);
  } else {
    message.erase(bhttp::field::transfer_encoding);
  }
  head_.clear();
  AppendResponseHead(message.base(), head_);
  std::array<char, kChunkSizeLineBytes> size_line;
  std::array<asio::const_buffer, 4> buffers = {asio::buffer(head_)};
  size_t count = 1;
  if (!first_bytes.empty() && chunked_) {
    buffers[count++] = asio::buffer(size_line.data(), FormatChunkSize(first_bytes.size(), size_line));
    buffers[count++] = asio::buffer(first_bytes);
    buffers[count++] = asio::buffer("\r\n", 2);
  } else if (!first_bytes.empty()) {
    buffers[count++] = asio::buffer(first_bytes);
  }
  co_return co_await WriteStreamBytes(std::span<const asio::const_buffer>(buffers.data(), count));
}

asio::awaitable<absl::Status> Connection::Write(std::string_view data) {
  if (!streaming_ || complete_) co_return absl::FailedPreconditionError("no open stream");
  if (data.empty()) co_return absl::OkStatus();
  if (!chunked_) co_return co_await WriteRaw(data);
  std::array<char, kChunkSizeLineBytes> size_line;
  const size_t size_length = FormatChunkSize(data.size(), size_line);
  const std::array<asio::const_buffer, 3> chunk = {
      asio::buffer(size_line.data(), size_length), asio::buffer(data),
      asio::buffer("\r\n", 2)};
  co_return co_await WriteStreamBytes(chunk);
}

asio::awaitable<absl::Status> Connection::FinishWith(std::string_view last) {
  if (!streaming_ || complete_) co_return absl::FailedPreconditionError("no open stream");
  if (!chunked_) {
    if (absl::Status status = co_await Write(last); !status.ok()) co_return status;
    complete_ = true;
    co_return absl::OkStatus();
  }
  static constexpr std::string_view kLastChunk = "0\r\n\r\n";
  std::array<char, kChunkSizeLineBytes> size_line;
  std::array<asio::const_buffer, 4> buffers;
  size_t count = 0;
  if (!last.empty()) {
    buffers[count++] = asio::buffer(size_line.data(), FormatChunkSize(last.size(), size_line));
    buffers[count++] = asio::buffer(last);
    buffers[count++] = asio::buffer("\r\n", 2);
  }
  buffers[count++] = asio::buffer(kLastChunk);
  if (absl::Status status = co_await WriteStreamBytes(std::span<const asio::const_buffer>(buffers.data(), count));
      !status.ok()) {
    co_return status;
  }
  complete_ = true;
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> Connection::WriteRaw(std::string_view data) {
  const std::array<asio::const_buffer, 1> buffers = {asio::buffer(data)};
  co_return co_await WriteStreamBytes(buffers);
}

asio::awaitable<absl::Status> Connection::WriteStreamBytes(std::span<const asio::const_buffer> buffers) {
  error_code ec;
  {
    WriteScope scope(*this);
    ec = co_await WriteBuffers(buffers);
  }
  if (ec) {
    keep_alive_ = false;
    co_return WriteError(ec);
  }
  co_return absl::OkStatus();
}

asio::awaitable<error_code> Connection::WriteResponse(const Response& response) {
  head_.clear();
  AppendResponseHead(response.base(), head_);
  const std::array<asio::const_buffer, 2> buffers = {asio::buffer(head_), asio::buffer(response.body())};
  co_return co_await WriteBuffers(buffers);
}

asio::awaitable<Connection::Protocol> Connection::ChooseProtocol() {
  if (tls_) {
    // The handshake is a read like a request's: bounded by client_timeout, ended by Drain.
    phase_ = Phase::kReadingRequest;
    SetDeadline(limits_.client_timeout);
    auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, kUseAwaitable);
    if (ec) co_return Protocol::kClosed;
    co_return SelectedAlpn(tls_->native_handle()) == "h2" ? Protocol::kHttp2 : Protocol::kHttp1;
  }
  // A client with prior knowledge starts with the preface; no HTTP/1.1 request does ("PRI" is
  // reserved for it), so reading until the bytes differ or the preface is complete decides.
  static constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  // Bounded: every round reads at least one byte or ends.
  while (true) {
    const auto buffered = buffer_.data();
    const std::string_view head(static_cast<const char*>(buffered.data()),
                                std::min(buffered.size(), kPreface.size()));
    if (!kPreface.starts_with(head)) co_return Protocol::kHttp1;
    if (head.size() == kPreface.size()) co_return Protocol::kHttp2;
    if (worker_.draining) co_return Protocol::kClosed;
    phase_ = buffer_.size() == 0 ? Phase::kIdle : Phase::kReadingRequest;
    SetDeadline(limits_.client_timeout);
    auto [ec, n] = co_await ReadSome(buffer_.prepare(kReadSize));
    if (ec) co_return Protocol::kClosed;
    buffer_.commit(n);
  }
}

asio::awaitable<void> Connection::ServeHttp2() {
  // The h2 connection keeps its own deadlines.
  phase_ = Phase::kHandling;
  ClearDeadline();
  if (tls_) {
    h2_ = std::make_unique<H2Connection>(*server_, worker_, *tls_);
  } else {
    h2_ = std::make_unique<H2Connection>(*server_, worker_, *plain_);
  }
  const auto buffered = buffer_.data();
  co_await h2_->Serve(std::string_view(static_cast<const char*>(buffered.data()), buffered.size()));
  buffer_.clear();
}

asio::awaitable<std::tuple<error_code, size_t>> Connection::ReadSome(asio::mutable_buffer buffer) {
  return tls_ ? tls_->async_read_some(buffer, kUseAwaitable)
              : plain_->async_read_some(buffer, kUseAwaitable);
}

asio::awaitable<error_code> Connection::WriteBuffers(std::span<const asio::const_buffer> buffers) {
  return tls_ ? TlsWriteAll(*tls_, buffers) : net::WriteAll(*plain_, buffers);
}

asio::awaitable<void> Connection::WaitUntilClientGone() {
  // Bounded by the buffer cap: every iteration either ends the wait or grows the buffer.
  const size_t cap = static_cast<size_t>(limits_.max_header_bytes) + limits_.max_body_bytes;
  while (buffer_.size() <= cap) {
    auto [ec, n] = co_await ReadSome(buffer_.prepare(kReadSize));
    if (ec || n == 0) co_return;
    buffer_.commit(n);
  }
}

void Connection::ResetConnection() {
  keep_alive_ = false;
  complete_ = false;
  if (!socket().is_open()) return;
  error_code ignored;
  socket().set_option(asio::socket_base::linger(true, 0), ignored);
  socket().close(ignored);
}

void Connection::OnTimeout() {
  error_code ignored;
  switch (phase_) {
    case Phase::kHandling:
      return;
    case Phase::kIdle:
    case Phase::kReadingRequest:
      // Shutting down the receive side (not just cancelling) makes the timeout stick even if
      // no read is pending at this instant; the write side stays open for the 408.
      socket().shutdown(asio::ip::tcp::socket::shutdown_receive, ignored);
      break;
    case Phase::kWriting:
      socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
      break;
  }
  timed_out_ = true;
  socket().cancel(ignored);
}

}  // namespace llmesh::http::internal
