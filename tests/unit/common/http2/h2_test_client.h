// Test-only: a blocking HTTP/2 client written directly on nghttp2's client API (independent of
// common/http2), over plain TCP (h2c with prior knowledge) or TLS with ALPN. Every wait runs a
// private io_context until a condition holds or a deadline passes; nothing here sleeps.
//
// Threading: one test thread per client.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <nghttp2/nghttp2.h>

namespace llmesh::http2::testing {

class H2TestClient {
 public:
  struct Stream {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::vector<std::string> chunks;  // DATA payloads as they arrived
    bool closed = false;
    uint32_t error_code = 0;  // RST_STREAM code; 0 after a clean close
    bool end_stream = false;  // END_STREAM received
    size_t end_stream_data = 0;  // payload bytes of the DATA frame that carried END_STREAM

    std::string Header(std::string_view name) const {
      for (const auto& [key, value] : headers) {
        if (key == name) return value;
      }
      return {};
    }
  };

  // Connects to 127.0.0.1:port. With `tls`, does a TLS handshake offering `alpn` (wire format,
  // e.g. "\x02h2") and verifying nothing (tests check ALPN, not PKI).
  explicit H2TestClient(uint16_t port, boost::asio::ssl::context* tls = nullptr,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : socket_(context_), timeout_(timeout) {
    boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), port);
    boost::system::error_code ec;
    socket_.connect(endpoint, ec);
    if (ec) return;
    socket_.set_option(boost::asio::ip::tcp::no_delay(true));
    if (tls != nullptr) {
      tls_.emplace(std::move(socket_), *tls);
      tls_->handshake(boost::asio::ssl::stream_base::client, ec);
      if (ec) return;
      const unsigned char* data = nullptr;
      unsigned int length = 0;
      SSL_get0_alpn_selected(tls_->native_handle(), &data, &length);
      alpn_ = data ? std::string(reinterpret_cast<const char*>(data), length) : std::string();
    }
    connected_ = true;
    nghttp2_session_callbacks* callbacks;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &OnHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &OnData);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &OnFrame);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &OnClose);
    nghttp2_session_client_new(&session_, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1000},
                                         {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 8 << 20}};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 2);
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, 64 << 20);
  }
  ~H2TestClient() {
    if (session_ != nullptr) nghttp2_session_del(session_);
  }

  bool connected() const { return connected_; }
  const std::string& alpn() const { return alpn_; }
  bool connection_closed() const { return connection_closed_; }
  bool goaway_received() const { return goaway_received_; }
  int32_t goaway_last_stream_id() const { return goaway_last_stream_id_; }
  nghttp2_session* session() { return session_; }

  // Submits a request; returns the stream id (negative on nghttp2 error). Sent at the next Pump.
  int32_t Submit(std::string_view method, std::string_view path, std::string body = {},
                 std::vector<std::pair<std::string, std::string>> headers = {}) {
    std::vector<std::pair<std::string, std::string>> all = {
        {":method", std::string(method)}, {":scheme", tls_ ? "https" : "http"},
        {":authority", "127.0.0.1"}, {":path", std::string(path)}};
    for (auto& header : headers) all.push_back(std::move(header));
    std::vector<nghttp2_nv> nva;
    for (auto& [name, value] : all) {
      nva.push_back({reinterpret_cast<uint8_t*>(name.data()), reinterpret_cast<uint8_t*>(value.data()),
                     name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
    }
    auto source = std::make_unique<BodySource>();
    source->bytes = std::move(body);
    nghttp2_data_provider provider{};
    provider.source.ptr = source.get();
    provider.read_callback = &ReadBody;
    const bool has_body = method != "GET" && method != "HEAD";
    const int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                              has_body ? &provider : nullptr, nullptr);
    if (id > 0) {
      streams_[id];
      bodies_.push_back(std::move(source));
    }
    return id;
  }

  // Sends RST_STREAM for `id` at the next Pump.
  void Reset(int32_t id, uint32_t code = NGHTTP2_CANCEL) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, code);
  }

  // Writes raw bytes after flushing what nghttp2 has queued.
  bool SendRaw(std::string_view bytes) {
    if (!Flush()) return false;
    return WriteBytes(bytes.data(), bytes.size());
  }

  // Sends what is queued, then reads and feeds nghttp2 until `done()` or the connection closes
  // or the deadline passes. Returns done().
  bool PumpUntil(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    // Bounded by the deadline: each round reads once or ends.
    while (true) {
      if (!Flush()) return done();
      if (done()) return true;
      if (connection_closed_ || std::chrono::steady_clock::now() >= deadline) return done();
      if (!ReadOnce(deadline)) return done();
    }
  }

  bool WaitClosed(int32_t id) {
    return PumpUntil([&] { return streams_[id].closed; });
  }
  // Waits for the server to close the connection.
  bool WaitConnectionClosed() {
    return PumpUntil([&] { return connection_closed_; });
  }

  Stream& stream(int32_t id) { return streams_[id]; }

 private:
  struct BodySource {
    std::string bytes;
    size_t offset = 0;
  };

  static H2TestClient& Of(void* user) { return *static_cast<H2TestClient*>(user); }
  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                          nghttp2_data_source* source, void*) {
    auto& body = *static_cast<BodySource*>(source->ptr);
    const size_t n = std::min(length, body.bytes.size() - body.offset);
    std::copy_n(body.bytes.data() + body.offset, n, buf);
    body.offset += n;
    if (body.offset == body.bytes.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                      void* user) {
    Stream& stream = Of(user).streams_[frame->hd.stream_id];
    std::string key(reinterpret_cast<const char*>(name), name_length);
    std::string text(reinterpret_cast<const char*>(value), value_length);
    if (key == ":status") stream.status = std::stoi(text);
    stream.headers.emplace_back(std::move(key), std::move(text));
    return 0;
  }
  static int OnData(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t length,
                    void* user) {
    Stream& stream = Of(user).streams_[id];
    stream.body.append(reinterpret_cast<const char*>(data), length);
    stream.chunks.emplace_back(reinterpret_cast<const char*>(data), length);
    return 0;
  }
  static int OnFrame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    H2TestClient& self = Of(user);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      self.goaway_received_ = true;
      self.goaway_last_stream_id_ = frame->goaway.last_stream_id;
    }
    if ((frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
      Stream& stream = self.streams_[frame->hd.stream_id];
      stream.end_stream = true;
      if (frame->hd.type == NGHTTP2_DATA) stream.end_stream_data = frame->hd.length;
    }
    return 0;
  }
  static int OnClose(nghttp2_session*, int32_t id, uint32_t code, void* user) {
    Stream& stream = Of(user).streams_[id];
    stream.closed = true;
    stream.error_code = code;
    return 0;
  }

  bool WriteBytes(const void* data, size_t size) {
    boost::system::error_code ec;
    if (tls_) {
      boost::asio::write(*tls_, boost::asio::buffer(data, size), ec);
    } else {
      boost::asio::write(socket_, boost::asio::buffer(data, size), ec);
    }
    if (ec) connection_closed_ = true;
    return !ec;
  }

  bool Flush() {
    if (connection_closed_) return false;
    // Bounded: nghttp2 runs out of queued frames.
    while (true) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) return false;
      if (n == 0) return true;
      if (!WriteBytes(data, static_cast<size_t>(n))) return false;
    }
  }

  // Runs the pending read for at most a short slice (so PumpUntil re-checks conditions that
  // change on the server side); false once the connection is closed or the deadline passed.
  bool ReadOnce(std::chrono::steady_clock::time_point deadline) {
    if (!read_pending_) {
      read_pending_ = true;
      read_done_ = false;
      auto handler = [this](const boost::system::error_code& ec, size_t n) {
        read_error_ = ec;
        read_bytes_ = n;
        read_done_ = true;
        read_pending_ = false;
      };
      if (tls_) {
        tls_->async_read_some(boost::asio::buffer(buffer_), handler);
      } else {
        socket_.async_read_some(boost::asio::buffer(buffer_), handler);
      }
    }
    context_.restart();
    context_.run_until(std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(20)));
    if (!read_done_) return std::chrono::steady_clock::now() < deadline;
    read_done_ = false;
    if (read_error_) {
      connection_closed_ = true;
      return false;
    }
    if (nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(buffer_.data()), read_bytes_) < 0) {
      connection_closed_ = true;
      return false;
    }
    return true;
  }

  boost::asio::io_context context_;
  boost::asio::ip::tcp::socket socket_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> tls_;
  std::chrono::milliseconds timeout_;
  nghttp2_session* session_ = nullptr;
  bool connected_ = false;
  bool connection_closed_ = false;
  bool goaway_received_ = false;
  int32_t goaway_last_stream_id_ = -1;
  std::string alpn_;
  bool read_pending_ = false;
  bool read_done_ = false;
  boost::system::error_code read_error_;
  size_t read_bytes_ = 0;
  std::array<char, 64 << 10> buffer_;
  std::map<int32_t, Stream> streams_;
  std::vector<std::unique_ptr<BodySource>> bodies_;
};

}  // namespace llmesh::http2::testing
