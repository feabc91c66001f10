#include "tests/unit/proxy/upstream/test_h2_server.h"

#include <chrono>
#include <exception>

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "absl/strings/str_cat.h"

namespace llmesh::upstream::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

int SelectH2(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
             unsigned int in_length, void*) {
  static constexpr unsigned char kH2[] = {2, 'h', '2'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, kH2, sizeof(kH2), in, in_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

std::string H2Stream::Field(std::string_view name) const {
  for (const auto& [field, value] : fields) {
    if (field == name) return value;
  }
  return "";
}

size_t H2Stream::unsent() const {
  size_t bytes = out.pending.size();
  for (size_t i = next_chunk; i < chunks.size(); ++i) bytes += chunks[i].size();
  return bytes;
}

class H2ServerConnection::ServerSession final : public http2::Session {
 public:
  ServerSession(TestH2Server& server, H2ServerConnection& connection, http2::Transport& transport)
      : http2::Session(Role::kServer, transport, server.options_), server_(server), connection_(connection) {}

 protected:
  int OnBeginHeaders(const nghttp2_frame& frame) override {
    if (frame.headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    H2Stream& stream = *server_.streams_.emplace_back(std::make_unique<H2Stream>());
    stream.connection = &connection_;
    stream.id = frame.hd.stream_id;
    nghttp2_session_set_stream_user_data(native(), frame.hd.stream_id, &stream);
    return 0;
  }

  int OnHeader(const nghttp2_frame& frame, std::string_view name, std::string_view value) override {
    H2Stream* stream = Of(frame.hd.stream_id);
    if (stream == nullptr) return 0;
    if (name == ":method") {
      stream->method = value;
    } else if (name == ":scheme") {
      stream->scheme = value;
    } else if (name == ":authority") {
      stream->authority = value;
    } else if (name == ":path") {
      stream->path = value;
    } else {
      stream->fields.emplace_back(name, value);
    }
    return 0;
  }

  int OnData(int32_t stream_id, std::string_view data) override {
    // Read at once unless the test holds uploads back.
    if (!server_.hold_uploads_) Consume(stream_id, data.size());
    if (H2Stream* stream = Of(stream_id)) stream->body.append(data);
    return 0;
  }

  int OnFrame(const nghttp2_frame& frame) override {
    if (frame.hd.type != NGHTTP2_HEADERS && frame.hd.type != NGHTTP2_DATA) return 0;
    if (!(frame.hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
    H2Stream* stream = Of(frame.hd.stream_id);
    if (stream == nullptr) return 0;
    server_.requests_.push_back(stream);
    if (server_.on_request_) server_.on_request_(*stream);
    return 0;
  }

  int OnStreamClose(int32_t stream_id, uint32_t error_code) override {
    if (H2Stream* stream = Of(stream_id)) {
      stream->closed = true;
      stream->close_code = error_code;
    }
    return 0;
  }

  void OnGoAway(int32_t, uint32_t) override { connection_.client_going_away_ = true; }

  void OnBodyWritten(http2::OutboundBody& body) override {
    if (H2Stream* stream = Of(body.stream_id)) connection_.Pump(*stream);
  }

 private:
  H2Stream* Of(int32_t stream_id) const { return static_cast<H2Stream*>(stream_user_data(stream_id)); }

  TestH2Server& server_;
  H2ServerConnection& connection_;
};

H2ServerConnection::H2ServerConnection(tcp::socket socket, ssl::context* tls, int index) : index_(index) {
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  if (tls != nullptr) {
    tls_.emplace(std::move(socket), *tls);
  } else {
    plain_.emplace(std::move(socket));
  }
}

H2ServerConnection::~H2ServerConnection() = default;

tcp::socket& H2ServerConnection::tcp() { return tls_ ? tls_->next_layer() : *plain_; }

asio::awaitable<void> H2ServerConnection::Serve(TestH2Server& server) {
  if (tls_) {
    auto [ec] = co_await tls_->async_handshake(ssl::stream_base::server, kAwait);
    if (ec) {
      ended_ = true;
      co_return;
    }
    transport_ = std::make_unique<http2::TlsTransport>(*tls_);
  } else {
    transport_ = std::make_unique<http2::TcpTransport>(*plain_);
  }
  session_ = std::make_unique<ServerSession>(server, *this, *transport_);
  co_await session_->Run();
  ended_ = true;
}

void H2ServerConnection::Interim(H2Stream& stream, int status) {
  const std::string status_text = absl::StrCat(status);
  http2::HeaderList headers;
  headers.AddLowercase(":status", status_text);
  const std::span<const nghttp2_nv> entries = headers.entries();
  if (nghttp2_submit_headers(session_->native(), NGHTTP2_FLAG_NONE, stream.id, nullptr, entries.data(),
                             entries.size(), nullptr) < 0) {
    ADD_FAILURE() << "test h2 server: cannot submit an interim head";
  }
  session_->Flush();
}

void H2ServerConnection::Respond(H2Stream& stream, int status, std::vector<std::pair<std::string, std::string>> fields,
                                 bool end_stream) {
  const std::string status_text = absl::StrCat(status);
  http2::HeaderList headers;
  headers.AddLowercase(":status", status_text);
  for (const auto& [name, value] : fields) headers.Add(name, value);
  stream.end_requested = end_stream;
  stream.out.end_stream = end_stream;
  const absl::Status submitted =
      session_->SubmitResponse(stream.id, headers.entries(), end_stream ? nullptr : &stream.out);
  if (!submitted.ok()) ADD_FAILURE() << "test h2 server: " << submitted;
}

void H2ServerConnection::Send(H2Stream& stream, std::string data, bool end_stream) {
  stream.chunks.push_back(std::move(data));
  stream.end_requested = end_stream;
  Pump(stream);
}

void H2ServerConnection::Pump(H2Stream& stream) {
  if (session_ == nullptr || !stream.out.pending.empty()) return;
  if (stream.next_chunk < stream.chunks.size()) stream.out.pending = stream.chunks[stream.next_chunk++];
  stream.out.end_stream = stream.end_requested && stream.next_chunk == stream.chunks.size();
  session_->ResumeBody(stream.out);
}

void H2ServerConnection::Reset(H2Stream& stream, uint32_t error_code) { session_->ResetStream(stream.id, error_code); }

void H2ServerConnection::GoAway(int32_t last_stream_id, uint32_t error_code) {
  nghttp2_submit_goaway(session_->native(), NGHTTP2_FLAG_NONE, last_stream_id, error_code, nullptr, 0);
  session_->Flush();
}

void H2ServerConnection::Close() {
  if (session_ != nullptr) {
    session_->Close();
    return;
  }
  beast::error_code ignored;
  tcp().close(ignored);
}

TestH2Server::TestH2Server(asio::io_context& io, OnRequest on_request, ssl::context* tls,
                           http2::SessionOptions options)
    : io_(io), on_request_(std::move(on_request)), tls_(tls), options_(options), acceptor_(io) {
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(endpoint.protocol());
  acceptor_.bind(endpoint);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  accepting_ = true;
  asio::co_spawn(io_, AcceptLoop(), [this](std::exception_ptr error) {
    accepting_ = false;
    if (error) ADD_FAILURE() << "test h2 server accept loop threw";
  });
}

TestH2Server::~TestH2Server() {
  Stop();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((accepting_ || finished_ < accepted_) && std::chrono::steady_clock::now() < deadline) {
    if (io_.stopped()) io_.restart();
    if (io_.run_one_until(deadline) == 0) break;
  }
  EXPECT_EQ(finished_, accepted_) << "test h2 server connections still running";
}

H2ServerConnection& TestH2Server::connection(int index) {
  for (H2ServerConnection& connection : connections_) {
    if (connection.index() == index) return connection;
  }
  ADD_FAILURE() << "no test h2 server connection " << index;
  return connections_.front();
}

void TestH2Server::Stop() {
  beast::error_code ignored;
  acceptor_.close(ignored);
  for (H2ServerConnection& connection : connections_) connection.Close();
}

asio::awaitable<void> TestH2Server::AcceptLoop() {
  // Ends when Stop closes the acceptor.
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(kAwait);
    if (ec) co_return;
    ++accepted_;
    H2ServerConnection& connection = connections_.emplace_back(std::move(socket), tls_, accepted_);
    asio::co_spawn(io_, connection.Serve(*this), [this](std::exception_ptr error) {
      ++finished_;
      if (error) ADD_FAILURE() << "test h2 server connection threw";
    });
  }
}

TestH2Server::OnRequest Reply(int status, std::string body) {
  return [status, body = std::move(body)](H2Stream& stream) {
    stream.connection->Respond(stream, status, {{"content-length", absl::StrCat(body.size())}});
    stream.connection->Send(stream, body, true);
  };
}

std::unique_ptr<ssl::context> H2ServerTlsContext(const std::string& cert_pem, const std::string& key_pem) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  context->use_certificate_chain(asio::buffer(cert_pem));
  context->use_private_key(asio::buffer(key_pem), ssl::context::pem);
  SSL_CTX_set_alpn_select_cb(context->native_handle(), SelectH2, nullptr);
  return context;
}

}  // namespace llmesh::upstream::testing
