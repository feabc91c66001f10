#include "common/http2/session.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <exception>
#include <limits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/string.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/net/write_all.h"

namespace llmesh::http2 {
namespace {

constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);
// One read; a TLS record is at most 16 KiB, so this takes two of them or many small frames.
constexpr size_t kReadBytes = 32 << 10;
// A batch stops growing past this, so one slow write does not hold the whole backlog.
constexpr size_t kMaxBatchBytes = 256 << 10;
constexpr size_t kFrameHeaderBytes = 9;
// What we assume of the peer before its SETTINGS arrive (RFC 9113 recommends >= 100).
constexpr uint32_t kAssumedPeerMaxStreams = 100;

nghttp2_option* MakeOption(Session::Role role) {
  nghttp2_option* option = nullptr;
  if (nghttp2_option_new(&option) != 0) std::abort();
  nghttp2_option_set_no_auto_window_update(option, 1);
  if (role == Session::Role::kClient) {
    nghttp2_option_set_peer_max_concurrent_streams(option, kAssumedPeerMaxStreams);
  }
  return option;
}

nghttp2_option* Option(Session::Role role) {
  static nghttp2_option* const client = MakeOption(Session::Role::kClient);
  static nghttp2_option* const server = MakeOption(Session::Role::kServer);
  return role == Session::Role::kClient ? client : server;
}

}  // namespace

// The C callbacks, each forwarding to the Session in user_data.
struct SessionCallbacks {
  static Session& Of(void* user_data) { return *static_cast<Session*>(user_data); }

  static ssize_t Send(nghttp2_session*, const uint8_t* data, size_t length, int, void* user_data) {
    return Of(user_data).AppendFrames(data, length);
  }
  static int SendData(nghttp2_session*, nghttp2_frame* frame, const uint8_t* framehd,
                      size_t length, nghttp2_data_source* source, void* user_data) {
    return Of(user_data).AppendData(*frame, framehd, length,
                                    *static_cast<OutboundBody*>(source->ptr));
  }
  static ssize_t ReadBody(nghttp2_session*, int32_t stream_id, uint8_t*, size_t length,
                          uint32_t* flags, nghttp2_data_source* source, void* user_data) {
    return Of(user_data).ReadBody(stream_id, length, flags,
                                  *static_cast<OutboundBody*>(source->ptr));
  }
  static int BeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    return Of(user_data).OnBeginHeaders(*frame);
  }
  static int Header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                    size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                    void* user_data) {
    return Of(user_data).OnHeader(
        *frame, std::string_view(reinterpret_cast<const char*>(name), name_length),
        std::string_view(reinterpret_cast<const char*>(value), value_length));
  }
  static int FrameReceived(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    Session& session = Of(user_data);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      session.peer_going_away_ = true;
      session.OnGoAway(frame->goaway.last_stream_id, frame->goaway.error_code);
    }
    return session.OnFrame(*frame);
  }
  static int DataChunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                       size_t length, void* user_data) {
    // The connection window is handed back as DATA arrives; only the stream's waits for Consume.
    nghttp2_session_consume_connection(session, length);
    return Of(user_data).OnData(stream_id,
                                std::string_view(reinterpret_cast<const char*>(data), length));
  }
  static int StreamClosed(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                          void* user_data) {
    return Of(user_data).OnStreamClose(stream_id, error_code);
  }

  static nghttp2_session_callbacks* Get() {
    static nghttp2_session_callbacks* const callbacks = [] {
      nghttp2_session_callbacks* made = nullptr;
      if (nghttp2_session_callbacks_new(&made) != 0) std::abort();
      nghttp2_session_callbacks_set_send_callback(made, &Send);
      nghttp2_session_callbacks_set_send_data_callback(made, &SendData);
      nghttp2_session_callbacks_set_on_begin_headers_callback(made, &BeginHeaders);
      nghttp2_session_callbacks_set_on_header_callback(made, &Header);
      nghttp2_session_callbacks_set_on_frame_recv_callback(made, &FrameReceived);
      nghttp2_session_callbacks_set_on_data_chunk_recv_callback(made, &DataChunk);
      nghttp2_session_callbacks_set_on_stream_close_callback(made, &StreamClosed);
      return made;
    }();
    return callbacks;
  }
};

Session::Session(Role role, Transport& transport, const SessionOptions& options)
    : role_(role),
      transport_(transport),
      options_(options),
      writer_wake_(transport.socket().get_executor()) {
  const int rv =
      role == Role::kClient
          ? nghttp2_session_client_new2(&session_, SessionCallbacks::Get(), this, Option(role))
          : nghttp2_session_server_new2(&session_, SessionCallbacks::Get(), this, Option(role));
  // nghttp2 fails here only when out of memory.
  if (rv != 0) std::abort();
  read_buffer_.resize(kReadBytes);
}

Session::~Session() { nghttp2_session_del(session_); }

asio::awaitable<absl::Status> Session::Run(std::string_view already_read) {
  std::array<nghttp2_settings_entry, 4> settings = {{
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, options_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options_.stream_window_bytes},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, options_.max_header_list_bytes},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  }};
  // ENABLE_PUSH is a client's setting only.
  const size_t count = role_ == Role::kClient ? settings.size() : settings.size() - 1;
  if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), count) != 0 ||
      nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                            static_cast<int32_t>(options_.connection_window_bytes)) != 0) {
    EndSession();
    co_return absl::InternalError("http2: cannot submit SETTINGS");
  }
  using namespace asio::experimental::awaitable_operators;
  co_return co_await (ReadLoop(already_read) && WriteLoop());
}

asio::awaitable<absl::Status> Session::ReadLoop(std::string_view already_read) {
  absl::Status status;
  try {
    std::string_view input = already_read;
    while (true) {
      if (!input.empty()) {
        const ssize_t used = nghttp2_session_mem_recv(
            session_, reinterpret_cast<const uint8_t*>(input.data()), input.size());
        if (used < 0) {
          protocol_error_ = true;
          status = absl::InternalError(
              absl::StrCat("http2: ", nghttp2_strerror(static_cast<int>(used))));
          break;
        }
        Flush();
      }
      // The writer ends a finished session (once its last frames are out) by closing.
      if (closed_) break;
      auto [ec, n] = co_await transport_.ReadSome(asio::buffer(read_buffer_));
      if (ec) {
        if (ec == asio::error::operation_aborted && !closed_) {
          status = absl::CancelledError("http2: session cancelled");
        } else if (!closed_) {
          status = absl::UnavailableError(absl::StrCat("http2: connection: ", ec.message()));
        }
        break;
      }
      input = std::string_view(read_buffer_.data(), n);
    }
  } catch (const std::exception&) {
    // A terminal cancellation makes the next operation throw.
    status = absl::CancelledError("http2: session cancelled");
  }
  EndSession();
  if (!status.ok()) co_return status;
  if (protocol_error_) co_return absl::InternalError("http2: session failed");
  if (finished_) co_return absl::OkStatus();
  if (io_error_) co_return absl::UnavailableError("http2: connection write failed");
  co_return absl::CancelledError("http2: session closed");
}

asio::awaitable<void> Session::WriteLoop() {
  try {
    while (!closed_) {
      if (!FillBatch()) {
        protocol_error_ = true;
        break;
      }
      if (segments_.empty()) {
        if (Finished()) {
          finished_ = true;
          break;
        }
        writer_waiting_ = true;
        writer_wake_.expires_at(asio::steady_timer::time_point::max());
        co_await writer_wake_.async_wait(kUseAwaitable);
        writer_waiting_ = false;
        continue;
      }
      gather_.clear();
      for (const Segment& segment : segments_) {
        gather_.emplace_back(segment.data ? segment.data : batch_bytes_.data() + segment.offset_or_size,
                             segment.size);
      }
      writing_ = true;
      const error_code ec = co_await transport_.WriteAll(gather_);
      writing_ = false;
      // Once closed (here or by Close() while the write was completing), owners may already
      // have dropped the bodies of this batch: they learn of the end from closed() instead.
      if (ec && !closed_) io_error_ = true;
      if (ec || closed_) break;
      ++written_batches_;
      for (OutboundBody* body : batch_bodies_) OnBodyWritten(*body);
    }
  } catch (const std::exception&) {
    // Cancelled; ReadLoop reports it.
  }
  writer_waiting_ = false;
  EndSession();
}

bool Session::FillBatch() {
  batch_bytes_.clear();
  segments_.clear();
  batch_bodies_.clear();
  batch_size_ = 0;
  return nghttp2_session_send(session_) == 0;
}

bool Session::Finished() const {
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

ssize_t Session::AppendFrames(const uint8_t* data, size_t length) {
  if (batch_size_ >= kMaxBatchBytes) return NGHTTP2_ERR_WOULDBLOCK;
  if (!segments_.empty() && segments_.back().data == nullptr) {
    segments_.back().size += length;
  } else {
    segments_.push_back({nullptr, batch_bytes_.size(), length});
  }
  batch_bytes_.append(reinterpret_cast<const char*>(data), length);
  batch_size_ += length;
  return static_cast<ssize_t>(length);
}

int Session::AppendData(nghttp2_frame& frame, const uint8_t* framehd, size_t length,
                        OutboundBody& body) {
  if (batch_size_ >= kMaxBatchBytes) return NGHTTP2_ERR_WOULDBLOCK;
  // We never ask for padding, but a frame that has some must still be framed right.
  const size_t padding = frame.data.padlen;
  AppendFrames(framehd, kFrameHeaderBytes);
  if (padding > 0) {
    const uint8_t pad_length = static_cast<uint8_t>(padding - 1);
    AppendFrames(&pad_length, 1);
  }
  if (length > 0) {
    segments_.push_back({body.pending.data(), 0, length});
    body.pending.remove_prefix(length);
    batch_size_ += length;
  }
  if (padding > 1) {
    static constexpr std::array<uint8_t, 256> kZeros{};
    AppendFrames(kZeros.data(), padding - 1);
  }
  if (frame.hd.flags & NGHTTP2_FLAG_END_STREAM) body.end_stream_framed = true;
  const uint64_t batch = written_batches_ + 1;
  if (body.last_batch != batch) {
    body.last_batch = batch;
    batch_bodies_.push_back(&body);
  }
  return 0;
}

ssize_t Session::ReadBody(int32_t, size_t length, uint32_t* flags, OutboundBody& body) {
  if (body.pending.empty() && !body.end_stream) return NGHTTP2_ERR_DEFERRED;
  const size_t n = std::min(length, body.pending.size());
  *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  if (n == body.pending.size() && body.end_stream) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

void Session::Flush() {
  // A finished session wakes the writer too: it is the one that ends it.
  if (writer_waiting_ && !closed_ &&
      (nghttp2_session_want_write(session_) != 0 || nghttp2_session_want_read(session_) == 0)) {
    WakeWriter();
  }
}

void Session::WakeWriter() {
  if (!writer_waiting_) return;
  writer_waiting_ = false;
  writer_wake_.cancel();
}

void Session::EndSession() {
  if (closed_) {
    WakeWriter();
    return;
  }
  closed_ = true;
  transport_.Close();
  WakeWriter();
}

void Session::Close() { EndSession(); }

absl::StatusOr<int32_t> Session::SubmitRequest(std::span<const nghttp2_nv> headers,
                                               OutboundBody* body, void* stream_user_data) {
  if (closed_ || peer_going_away_) return absl::UnavailableError("http2: session going away");
  nghttp2_data_provider provider{};
  provider.source.ptr = body;
  provider.read_callback = &SessionCallbacks::ReadBody;
  const int32_t stream_id =
      nghttp2_submit_request(session_, nullptr, headers.data(), headers.size(),
                             body ? &provider : nullptr, stream_user_data);
  if (stream_id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE) {
    return absl::ResourceExhaustedError("http2: stream ids used up");
  }
  if (stream_id < 0) {
    return absl::InternalError(absl::StrCat("http2: submit request: ", nghttp2_strerror(stream_id)));
  }
  if (body) body->stream_id = stream_id;
  Flush();
  return stream_id;
}

absl::Status Session::SubmitResponse(int32_t stream_id, std::span<const nghttp2_nv> headers,
                                     OutboundBody* body) {
  if (closed_ || nghttp2_session_find_stream(session_, stream_id) == nullptr) {
    return absl::UnavailableError("http2: stream closed");
  }
  nghttp2_data_provider provider{};
  provider.source.ptr = body;
  provider.read_callback = &SessionCallbacks::ReadBody;
  const int rv = nghttp2_submit_response(session_, stream_id, headers.data(), headers.size(),
                                         body ? &provider : nullptr);
  if (rv != 0) return absl::InternalError(absl::StrCat("http2: submit response: ", nghttp2_strerror(rv)));
  if (body) body->stream_id = stream_id;
  Flush();
  return absl::OkStatus();
}

void Session::ResumeBody(OutboundBody& body) {
  if (closed_) return;
  // Fails harmlessly when the stream is gone or not deferred (the writer will ask anyway).
  nghttp2_session_resume_data(session_, body.stream_id);
  Flush();
}

void Session::Consume(int32_t stream_id, size_t bytes) {
  if (closed_ || bytes == 0) return;
  nghttp2_session_consume_stream(session_, stream_id, bytes);
  Flush();
}

void Session::ResetStream(int32_t stream_id, uint32_t error_code) {
  if (closed_ || nghttp2_session_find_stream(session_, stream_id) == nullptr) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, error_code);
  Flush();
}

void Session::GoAway() {
  if (closed_ || goaway_submitted_) return;
  goaway_submitted_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  Flush();
}

void Session::Terminate(uint32_t error_code) {
  if (closed_) return;
  goaway_submitted_ = true;
  nghttp2_session_terminate_session(session_, error_code);
  Flush();
}

bool Session::can_open_stream() const {
  return !closed_ && !peer_going_away_ && !goaway_submitted_ &&
         nghttp2_session_check_request_allowed(session_) != 0;
}

uint32_t Session::remote_max_concurrent_streams() const {
  return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

void* Session::stream_user_data(int32_t stream_id) const {
  return nghttp2_session_get_stream_user_data(session_, stream_id);
}

asio::awaitable<std::tuple<error_code, size_t>> TcpTransport::ReadSome(asio::mutable_buffer buffer) {
  co_return co_await socket_.async_read_some(buffer, kUseAwaitable);
}

asio::awaitable<error_code> TcpTransport::WriteAll(std::span<const asio::const_buffer> buffers) {
  return net::WriteAll(socket_, buffers);
}

void TcpTransport::Close() {
  error_code ignored;
  socket_.close(ignored);
}

asio::awaitable<std::tuple<error_code, size_t>> TlsTransport::ReadSome(asio::mutable_buffer buffer) {
  co_return co_await stream_.async_read_some(buffer, kUseAwaitable);
}

asio::awaitable<error_code> TlsTransport::WriteAll(std::span<const asio::const_buffer> buffers) {
  auto [ec, n] = co_await asio::async_write(stream_, buffers, kUseAwaitable);
  co_return ec;
}

void TlsTransport::Close() {
  error_code ignored;
  stream_.next_layer().close(ignored);
}

bool IsConnectionSpecificField(std::string_view name) {
  return boost::beast::iequals(name, "connection") || boost::beast::iequals(name, "keep-alive") ||
         boost::beast::iequals(name, "proxy-connection") ||
         boost::beast::iequals(name, "transfer-encoding") || boost::beast::iequals(name, "upgrade");
}

void HeaderList::AddLowercase(std::string_view name, std::string_view value) {
  entries_.push_back(nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                                reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())),
                                name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
  name_offsets_.push_back(std::string::npos);
}

void HeaderList::Add(std::string_view name, std::string_view value) {
  const size_t offset = names_.size();
  names_.append(name);
  for (size_t i = offset; i < names_.size(); ++i) names_[i] = absl::ascii_tolower(names_[i]);
  entries_.push_back(nghttp2_nv{nullptr, reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())),
                                name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
  name_offsets_.push_back(offset);
}

void HeaderList::AddFields(const boost::beast::http::fields& fields, boost::beast::http::field also_skip) {
  namespace bhttp = boost::beast::http;
  for (const auto& field : fields) {
    const bhttp::field known = field.name();
    if (known == bhttp::field::host || IsConnectionSpecificField(field.name_string())) continue;
    if (known == bhttp::field::te && !boost::beast::iequals(field.value(), "trailers")) continue;
    if (also_skip != bhttp::field::unknown && known == also_skip) continue;
    Add(field.name_string(), field.value());
  }
}

std::span<const nghttp2_nv> HeaderList::entries() {
  // Names are placed only now: names_ may have moved while it grew.
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (name_offsets_[i] != std::string::npos) {
      entries_[i].name = reinterpret_cast<uint8_t*>(names_.data() + name_offsets_[i]);
    }
  }
  return entries_;
}

}  // namespace llmesh::http2
