#include "tests/fakes/test_http2_client.h"

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace llmesh::testing {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr std::string_view kAlpnH2 = "\x02h2";
// Large windows so that a test reading slowly never stalls the server on flow control; this
// client is not where back-pressure is tested.
constexpr int32_t kStreamWindow = 16 << 20;
constexpr int32_t kConnectionWindow = 64 << 20;

std::string_view View(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

nghttp2_nv Field(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

// nghttp2's callbacks, with the connection as user data.
struct Http2Connection::Callbacks {
  static Http2Connection& Self(void* user_data) { return *static_cast<Http2Connection*>(user_data); }

  static Stream* Find(void* user_data, int32_t stream_id) {
    auto& streams = Self(user_data).streams_;
    auto it = streams.find(stream_id);
    return it == streams.end() ? nullptr : &it->second;
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t name_size,
                      const uint8_t* value, size_t value_size, uint8_t, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Stream* stream = Find(user_data, frame->hd.stream_id);
    if (stream == nullptr || stream->head_done) return 0;  // trailers are not kept
    const std::string_view field = View(name, name_size);
    const std::string_view text = View(value, value_size);
    if (field == ":status") {
      stream->status = 0;
      for (char c : text) stream->status = stream->status * 10 + (c - '0');
    } else if (!field.starts_with(':')) {
      stream->headers.insert(field, text);
    }
    return 0;
  }

  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    Http2Connection& self = Self(user_data);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      self.goaway_received_ = true;
      return 0;
    }
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
    Stream* stream = Find(user_data, frame->hd.stream_id);
    if (stream == nullptr) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && !stream->head_done) {
      if (stream->status >= 100 && stream->status < 200) {
        // An interim head: the final one follows.
        stream->status = 0;
        stream->headers.clear();
      } else {
        stream->head_done = true;
      }
    }
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) stream->end_stream = true;
    return 0;
  }

  static int OnDataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t size,
                         void* user_data) {
    Stream* stream = Find(user_data, stream_id);
    if (stream == nullptr) return 0;
    stream->data.append(reinterpret_cast<const char*>(data), size);
    stream->last_data_time = Clock::now();
    return 0;
  }

  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user_data) {
    Stream* stream = Find(user_data, stream_id);
    if (stream == nullptr || stream->closed) return 0;
    stream->closed = true;
    if (!stream->end_stream && stream->error.empty()) {
      stream->error = absl::StrCat("stream reset: ", nghttp2_http2_strerror(error_code));
    }
    return 0;
  }

  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* data_flags,
                          nghttp2_data_source* source, void*) {
    Stream& stream = *static_cast<Stream*>(source->ptr);
    const size_t n = std::min(length, stream.request_body.size() - stream.request_offset);
    std::memcpy(buf, stream.request_body.data() + stream.request_offset, n);
    stream.request_offset += n;
    if (stream.request_offset == stream.request_body.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
};

Http2Connection::Http2Connection() : tls_context_(ssl::context::tls_client), socket_(ioc_) {}

Http2Connection::~Http2Connection() {
  Close();
  nghttp2_session_del(session_);
}

absl::Status Http2Connection::Connect(uint16_t port, const std::string& ca_file, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  authority_port_ = port;
  const std::string where = absl::StrCat("127.0.0.1:", port);
  auto failed = [&](std::string what, bool timed_out) {
    Close();
    error_ = what;
    return timed_out ? absl::DeadlineExceededError(what) : absl::UnavailableError(what);
  };

  boost::system::error_code ec;
  bool connected = false;
  socket_.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port),
                        [&](boost::system::error_code e) {
                          ec = e;
                          connected = true;
                        });
  if (!RunUntil(deadline, [&] { return connected; })) return failed("timeout", true);
  if (ec) return failed(absl::StrCat("connect ", where, ": ", ec.message()), false);
  socket_.set_option(tcp::no_delay(true), ec);

  if (!ca_file.empty()) {
    tls_context_.set_verify_mode(ssl::verify_peer);
    tls_context_.load_verify_file(ca_file, ec);
    if (ec) return failed(absl::StrCat("tls: cannot load ", ca_file, ": ", ec.message()), false);
    tls_.emplace(socket_, tls_context_);
    SSL* handle = tls_->native_handle();
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), "127.0.0.1");
    SSL_set_alpn_protos(handle, reinterpret_cast<const unsigned char*>(kAlpnH2.data()),
                        static_cast<unsigned>(kAlpnH2.size()));
    bool shaken = false;
    tls_->async_handshake(ssl::stream_base::client, [&](boost::system::error_code e) {
      ec = e;
      shaken = true;
    });
    if (!RunUntil(deadline, [&] { return shaken; })) return failed("timeout", true);
    if (ec) return failed(absl::StrCat("tls handshake with ", where, ": ", ec.message()), false);
    const unsigned char* alpn = nullptr;
    unsigned alpn_size = 0;
    SSL_get0_alpn_selected(handle, &alpn, &alpn_size);
    const std::string selected(reinterpret_cast<const char*>(alpn), alpn_size);
    if (selected != "h2") {
      return failed(absl::StrCat("tls: ", where, " did not select h2 by ALPN (selected \"", selected, "\")"), false);
    }
  }
  open_ = true;

  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &Callbacks::OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Callbacks::OnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Callbacks::OnDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Callbacks::OnStreamClose);
  const int created = nghttp2_session_client_new(&session_, callbacks, this);
  nghttp2_session_callbacks_del(callbacks);
  if (created != 0) return failed(absl::StrCat("h2: ", nghttp2_strerror(created)), false);
  const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                             {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kStreamWindow}};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
  return Flush(deadline);
}

absl::StatusOr<int32_t> Http2Connection::Submit(boost::beast::http::verb method, std::string_view target,
                                                std::string_view body, const Headers& headers,
                                                Clock::time_point deadline) {
  if (!is_open()) return absl::UnavailableError(error_.empty() ? "not connected" : error_);
  if (goaway_received_) return absl::UnavailableError("the server sent GOAWAY");

  // Defaults first; a caller's header replaces a default of the same name.
  Headers fields = {{"content-length", std::to_string(body.size())}};
  if (!body.empty()) fields.emplace_back("content-type", "application/json");
  for (const auto& [name, value] : headers) {
    std::string lower = absl::AsciiStrToLower(name);
    std::erase_if(fields, [&](const auto& field) { return field.first == lower; });
    fields.emplace_back(std::move(lower), value);
  }
  const std::string authority = absl::StrCat("127.0.0.1:", authority_port_);
  const std::string_view method_name = boost::beast::http::to_string(method);
  std::vector<nghttp2_nv> nva = {Field(":method", method_name), Field(":scheme", tls_ ? "https" : "http"),
                                 Field(":authority", authority), Field(":path", target)};
  for (const auto& [name, value] : fields) nva.push_back(Field(name, value));

  // The stream's state must exist before the first frame can arrive for it, and its body must
  // stay put for the data source: std::map nodes do not move. Id 0 holds it until nghttp2
  // assigns the real id.
  Stream pending;
  pending.request_body = std::string(body);
  auto [slot, inserted] = streams_.insert_or_assign(0, std::move(pending));
  nghttp2_data_provider provider{};
  provider.source.ptr = &slot->second;
  provider.read_callback = &Callbacks::ReadBody;
  const int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                            body.empty() ? nullptr : &provider, nullptr);
  if (id < 0) {
    streams_.erase(0);
    return absl::InternalError(absl::StrCat("h2: submit: ", nghttp2_strerror(id)));
  }
  auto node = streams_.extract(0);
  node.key() = id;
  streams_.insert(std::move(node));
  if (absl::Status flushed = Flush(deadline); !flushed.ok()) return flushed;
  return id;
}

absl::Status Http2Connection::WaitForHead(int32_t stream_id, Clock::time_point deadline) {
  Stream& s = stream(stream_id);
  return Pump(deadline, [&] { return s.head_done || s.closed; });
}

absl::Status Http2Connection::WaitForData(int32_t stream_id, Clock::time_point deadline) {
  Stream& s = stream(stream_id);
  return Pump(deadline, [&] { return !s.data.empty() || s.end_stream || s.closed; });
}

absl::Status Http2Connection::WaitForEnd(int32_t stream_id, Clock::time_point deadline) {
  Stream& s = stream(stream_id);
  return Pump(deadline, [&] { return s.end_stream || s.closed; });
}

absl::Status Http2Connection::WaitForConnectionEnd(Clock::time_point deadline) {
  absl::Status pumped = Pump(deadline, [] { return false; });
  return absl::IsDeadlineExceeded(pumped) ? pumped : absl::OkStatus();
}

Http2Connection::Stream& Http2Connection::stream(int32_t stream_id) { return streams_.at(stream_id); }

void Http2Connection::Cancel(int32_t stream_id, Clock::time_point deadline) {
  Stream& s = stream(stream_id);
  if (s.closed) return;
  s.closed = true;
  s.error = "cancelled";
  if (!is_open()) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
  Flush(deadline).IgnoreError();
}

void Http2Connection::Forget(int32_t stream_id) {
  if (!streams_.contains(stream_id)) return;
  Cancel(stream_id, Clock::now() + std::chrono::seconds(1));
  streams_.erase(stream_id);
}

bool Http2Connection::is_open() const { return open_ && socket_.is_open(); }

uint16_t Http2Connection::local_port() const {
  boost::system::error_code ec;
  const tcp::endpoint local = socket_.local_endpoint(ec);
  return ec ? 0 : local.port();
}

void Http2Connection::Close() {
  if (socket_.is_open()) Fail("connection closed by the client");
}

absl::Status Http2Connection::Flush(Clock::time_point deadline) {
  if (!is_open()) return absl::UnavailableError(error_);
  for (;;) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      Fail(absl::StrCat("h2: ", nghttp2_strerror(static_cast<int>(n))));
      return absl::InternalError(error_);
    }
    if (n == 0) break;
    write_buffer_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  if (write_buffer_.empty()) return absl::OkStatus();
  boost::system::error_code ec;
  bool written = false;
  auto on_written = [&](boost::system::error_code e, size_t) {
    ec = e;
    written = true;
  };
  if (tls_) {
    asio::async_write(*tls_, asio::buffer(write_buffer_), on_written);
  } else {
    asio::async_write(socket_, asio::buffer(write_buffer_), on_written);
  }
  const bool done = RunUntil(deadline, [&] { return written; });
  if (!done) {
    Fail("timeout");
    // The handler refers to this frame's locals: let the cancelled write finish here.
    RunUntil(Clock::now() + std::chrono::seconds(5), [&] { return written; });
    return absl::DeadlineExceededError("timeout");
  }
  write_buffer_.clear();
  if (ec) {
    Fail(absl::StrCat("write: ", ec.message()));
    return absl::UnavailableError(error_);
  }
  return absl::OkStatus();
}

template <typename Done>
absl::Status Http2Connection::Pump(Clock::time_point deadline, Done done) {
  for (;;) {
    if (done()) return absl::OkStatus();
    if (!is_open()) return absl::UnavailableError(error_);
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) {
      Fail("connection finished after GOAWAY");
      continue;
    }
    StartRead();
    if (!RunUntil(deadline, [&] { return read_done_; })) return absl::DeadlineExceededError("timeout");
    read_done_ = false;
    if (read_error_) {
      Fail(absl::StrCat("read: ", read_error_.message()));
      continue;
    }
    const ssize_t consumed = nghttp2_session_mem_recv(session_, read_buffer_.data(), read_size_);
    if (consumed < 0) {
      Fail(absl::StrCat("h2: ", nghttp2_strerror(static_cast<int>(consumed))));
      continue;
    }
    // WINDOW_UPDATE, SETTINGS ACK, PING ACK and GOAWAY replies go out before waiting again.
    if (absl::Status flushed = Flush(deadline); !flushed.ok() && !is_open()) continue;
  }
}

template <typename Done>
bool Http2Connection::RunUntil(Clock::time_point deadline, Done done) {
  // Bounded: each pass runs one handler, and a pass that runs none (deadline passed, or no
  // operation left that could make `done()` true) ends the wait.
  while (!done()) {
    if (ioc_.stopped()) ioc_.restart();
    if (ioc_.run_one_until(deadline) == 0) break;
  }
  return done();
}

void Http2Connection::StartRead() {
  // A read left outstanding by a timed-out wait is still running, or one finished while a write
  // was awaited and its bytes are not yet parsed: use that one.
  if (read_pending_ || read_done_) return;
  read_pending_ = true;
  auto on_read = [this](boost::system::error_code ec, size_t n) {
    read_pending_ = false;
    read_done_ = true;
    read_error_ = ec;
    read_size_ = n;
  };
  if (tls_) {
    tls_->async_read_some(asio::buffer(read_buffer_), on_read);
  } else {
    socket_.async_read_some(asio::buffer(read_buffer_), on_read);
  }
}

void Http2Connection::Fail(std::string reason) {
  if (error_.empty()) error_ = std::move(reason);
  open_ = false;
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  for (auto& [id, s] : streams_) {
    if (s.closed) continue;
    s.closed = true;
    if (!s.end_stream && s.error.empty()) s.error = absl::StrCat("connection: ", error_);
  }
  // Handlers of operations cancelled by the close run now, while their state is alive.
  if (ioc_.stopped()) ioc_.restart();
  ioc_.poll();
}

}  // namespace llmesh::testing
