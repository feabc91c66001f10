// Self-test of the test client's HTTP/2 mode (test_http_client.h with HttpProtocol::kHttp2)
// against a small in-process nghttp2 server with scripted replies, over h2c and over TLS.
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/test_http_client.h"
#include "tests/fakes/test_pki.h"

namespace llmesh::testing {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

// An h2 server on 127.0.0.1:0 with scripted replies, run on its own thread; h2c with prior
// knowledge, or TLS offering `alpn` when given a certificate:
//   /echo    200 JSON {method,path,body,content_type,content_length,authorization}
//   /stream  200 "data: one\n\n", then (after Release()) "data: two\n\n" and END_STREAM
//   /reset   200 "data: one\n\n", then RST_STREAM(INTERNAL_ERROR)
//   /goaway  200 "data: one\n\n", then GOAWAY and the connection closed
//   other    404
class ScriptedH2Server {
 public:
  struct Tls {
    CertifiedKey cert;
    std::string alpn = "h2";
  };

  explicit ScriptedH2Server(std::optional<Tls> tls = std::nullopt)
      : acceptor_(ioc_, {asio::ip::address_v4::loopback(), 0}), tls_context_(ssl::context::tls_server) {
    if (tls) {
      alpn_ = tls->alpn;
      tls_context_.use_certificate_chain(asio::buffer(tls->cert.cert_pem));
      tls_context_.use_private_key(asio::buffer(tls->cert.key_pem), ssl::context::pem);
      SSL_CTX_set_alpn_select_cb(tls_context_.native_handle(), &SelectAlpn, this);
      use_tls_ = true;
    }
    asio::co_spawn(ioc_, Accept(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~ScriptedH2Server() {
    asio::post(ioc_, [this] { ioc_.stop(); });
    thread_.join();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int connections() const { return connections_.load(); }
  // RST_STREAM frames received from clients.
  int resets_received() const { return resets_.load(); }
  void Release() {
    asio::post(ioc_, [this] {
      released_ = true;
      for (Session* session : sessions_) session->ResumeHeld();
    });
  }

 private:
  static int SelectAlpn(SSL*, const unsigned char** out, unsigned char* out_size, const unsigned char* in,
                        unsigned in_size, void* arg) {
    const std::string& wanted = static_cast<ScriptedH2Server*>(arg)->alpn_;
    for (unsigned i = 0; i < in_size; i += in[i] + 1u) {
      if (std::string_view(reinterpret_cast<const char*>(in + i + 1), in[i]) == wanted) {
        *out = in + i + 1;
        *out_size = in[i];
        return SSL_TLSEXT_ERR_OK;
      }
    }
    return SSL_TLSEXT_ERR_NOACK;
  }

  // One connection's nghttp2 server session.
  struct Session {
    struct Stream {
      std::string method, path, content_type, content_length, authorization, body;
      std::string out;  // response body not yet framed
      bool end = false;  // END_STREAM after `out`
      bool held = false;  // waiting for Release()
    };

    ScriptedH2Server* server = nullptr;
    nghttp2_session* session = nullptr;
    std::map<int32_t, Stream> streams;
    bool close_after_flush = false;

    ~Session() { nghttp2_session_del(session); }

    void ResumeHeld() {
      for (auto& [id, stream] : streams) {
        if (!stream.held) continue;
        stream.held = false;
        stream.out += "data: two\n\n";
        stream.end = true;
        nghttp2_session_resume_data(session, id);
      }
      woken = true;
      wake();
    }
    std::function<void()> wake;
    bool woken = false;

    static Session& Self(void* user_data) { return *static_cast<Session*>(user_data); }

    static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t name_size,
                        const uint8_t* value, size_t value_size, uint8_t, void* user_data) {
      Stream& stream = Self(user_data).streams[frame->hd.stream_id];
      const std::string field(reinterpret_cast<const char*>(name), name_size);
      const std::string text(reinterpret_cast<const char*>(value), value_size);
      if (field == ":method") stream.method = text;
      if (field == ":path") stream.path = text;
      if (field == "content-type") stream.content_type = text;
      if (field == "content-length") stream.content_length = text;
      if (field == "authorization") stream.authorization = text;
      return 0;
    }

    static int OnData(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t size, void* user_data) {
      Self(user_data).streams[id].body.append(reinterpret_cast<const char*>(data), size);
      return 0;
    }

    static int OnFrame(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
      Session& self = Self(user_data);
      if (frame->hd.type == NGHTTP2_RST_STREAM) ++self.server->resets_;
      const bool request_done = (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
                                (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
      if (request_done) self.Respond(frame->hd.stream_id);
      return 0;
    }

    static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                            nghttp2_data_source* source, void*) {
      Stream& stream = *static_cast<Stream*>(source->ptr);
      if (stream.out.empty() && !stream.end) return NGHTTP2_ERR_DEFERRED;
      const size_t n = std::min(length, stream.out.size());
      std::memcpy(buf, stream.out.data(), n);
      stream.out.erase(0, n);
      if (stream.out.empty() && stream.end) *flags |= NGHTTP2_DATA_FLAG_EOF;
      return static_cast<ssize_t>(n);
    }

    void Respond(int32_t id) {
      Stream& stream = streams[id];
      std::string status = "200";
      if (stream.path == "/echo") {
        stream.out = boost::json::serialize(boost::json::object{{"method", stream.method},
                                                                {"path", stream.path},
                                                                {"body", stream.body},
                                                                {"content_type", stream.content_type},
                                                                {"content_length", stream.content_length},
                                                                {"authorization", stream.authorization}});
        stream.end = true;
      } else if (stream.path == "/stream" || stream.path == "/reset" || stream.path == "/goaway") {
        stream.out = "data: one\n\n";
        stream.held = stream.path == "/stream" && !server->released_;
        stream.end = stream.path == "/stream" && server->released_;
        if (stream.end) stream.out += "data: two\n\n";
      } else {
        status = "404";
        stream.end = true;
      }
      auto bytes = [](const char* text) { return reinterpret_cast<uint8_t*>(const_cast<char*>(text)); };
      const nghttp2_nv head[] = {{bytes(":status"), bytes(status.c_str()), 7, status.size(), NGHTTP2_NV_FLAG_NONE},
                                 {bytes("x-test"), bytes("yes"), 6, 3, NGHTTP2_NV_FLAG_NONE}};
      nghttp2_data_provider provider{};
      provider.source.ptr = &stream;
      provider.read_callback = &ReadBody;
      nghttp2_submit_response(session, id, head, 2, &provider);
      // The failure part goes out after the first event has been framed (see Flush).
    }

    // After each flush: streams whose first event went out get their scripted failure.
    void AfterFlush() {
      for (auto& [id, stream] : streams) {
        if (!stream.out.empty() || stream.end || stream.held) continue;
        if (stream.path == "/reset") {
          nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
          stream.end = true;
        } else if (stream.path == "/goaway") {
          nghttp2_submit_goaway(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR, nullptr, 0);
          stream.end = true;
          close_after_flush = true;
        }
      }
    }
  };

  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      ++connections_;
      if (use_tls_) {
        asio::co_spawn(ioc_, ServeTls(std::move(socket)), asio::detached);
      } else {
        asio::co_spawn(ioc_, Serve(std::make_shared<tcp::socket>(std::move(socket))), asio::detached);
      }
    }
  }

  asio::awaitable<void> ServeTls(tcp::socket socket) {
    auto stream = std::make_shared<ssl::stream<tcp::socket>>(std::move(socket), tls_context_);
    auto [ec] = co_await stream->async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    co_await Serve(stream);
  }

  // Reads into the session and writes what it queues until either side ends the connection.
  template <typename Stream>
  asio::awaitable<void> Serve(std::shared_ptr<Stream> stream) {
    Session state;
    state.server = this;
    asio::steady_timer wakeup(ioc_);
    state.wake = [&wakeup] { wakeup.cancel(); };
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &Session::OnHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Session::OnData);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Session::OnFrame);
    nghttp2_session_server_new(&state.session, callbacks, &state);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_submit_settings(state.session, NGHTTP2_FLAG_NONE, nullptr, 0);
    sessions_.push_back(&state);

    std::array<uint8_t, 16384> buffer;
    bool reading = false, read_done = false;
    size_t got = 0;
    boost::system::error_code read_ec;
    for (;;) {
      // Flush everything queued, then apply the scripted failures that follow a first event.
      for (int pass = 0; pass < 2; ++pass) {
        std::string out;
        const uint8_t* data = nullptr;
        for (ssize_t n; (n = nghttp2_session_mem_send(state.session, &data)) > 0;) {
          out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
        }
        if (!out.empty()) {
          auto [ec, n] = co_await asio::async_write(*stream, asio::buffer(out), asio::as_tuple(asio::use_awaitable));
          if (ec) break;
        }
        state.AfterFlush();
      }
      if (state.close_after_flush) break;
      if (!reading) {
        reading = true;
        stream->async_read_some(asio::buffer(buffer), [&](boost::system::error_code ec, size_t n) {
          read_ec = ec;
          got = n;
          read_done = true;
          wakeup.cancel();
        });
      }
      if (!read_done && !state.woken) {
        wakeup.expires_at(asio::steady_timer::time_point::max());
        co_await wakeup.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      state.woken = false;
      if (!read_done) continue;  // woken by Release()
      reading = read_done = false;
      if (read_ec || nghttp2_session_mem_recv(state.session, buffer.data(), got) < 0) break;
    }
    std::erase(sessions_, &state);
    boost::system::error_code ignored;
    stream->lowest_layer().close(ignored);
    // The read handler refers to this frame: let its cancellation run before leaving.
    while (reading && !read_done) {
      wakeup.expires_at(asio::steady_timer::time_point::max());
      co_await wakeup.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  ssl::context tls_context_;
  bool use_tls_ = false;
  std::string alpn_;
  bool released_ = false;  // touched only on ioc_'s thread
  std::vector<Session*> sessions_;
  std::atomic<int> connections_{0};
  std::atomic<int> resets_{0};
  std::thread thread_;
};

const ClientOptions kH2c{HttpProtocol::kHttp2, ""};

TEST(Http2ClientTest, RequestSendsPseudoHeadersDefaultsAndBody) {
  ScriptedH2Server server;
  HttpResponse r = Request(kH2c, server.port(), http::verb::post, "/echo", R"({"a":1})",
                           {{"Authorization", "Bearer k"}});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("X-Test"), "yes");
  EXPECT_TRUE(r.keep_alive);
  EXPECT_EQ(ParseJson(r.body), boost::json::parse(R"({"method":"POST","path":"/echo","body":"{\"a\":1}",)"
                                                  R"("content_type":"application/json","content_length":"7",)"
                                                  R"("authorization":"Bearer k"})"));
}

TEST(Http2ClientTest, ConnectionCarriesSequentialAndConcurrentStreamsOnOneSocket) {
  ScriptedH2Server server;
  HttpConnection connection(kH2c);
  ASSERT_TRUE(connection.Connect(server.port()).ok());
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = connection.Send(http::verb::post, "/echo", std::string(100000, 'a' + i));
    ASSERT_EQ(r.error, "");
    EXPECT_EQ(ParseJson(r.body).at("body").as_string().size(), 100000u);
  }
  StreamReader first, second;
  ASSERT_TRUE(first.Start(connection, http::verb::get, "/stream").ok()) << first.error();
  ASSERT_TRUE(second.Start(connection, http::verb::get, "/stream").ok()) << second.error();
  EXPECT_EQ(first.NextChunk(seconds(10)), "data: one\n\n");
  EXPECT_EQ(second.NextChunk(seconds(10)), "data: one\n\n");
  // A request on the same connection while both streams are open.
  EXPECT_EQ(connection.Send(http::verb::get, "/echo").status, 200);
  server.Release();
  EXPECT_EQ(second.ReadToEnd(seconds(10)), "data: two\n\n");
  EXPECT_EQ(first.ReadToEnd(seconds(10)), "data: two\n\n");
  EXPECT_TRUE(first.ClosedCleanly());
  EXPECT_TRUE(second.ClosedCleanly());
  EXPECT_EQ(server.connections(), 1);
}

TEST(Http2ClientTest, StreamReaderDeliversDataAsItArrivesAndEndsCleanlyOnEndStream) {
  ScriptedH2Server server;
  StreamReader reader(kH2c);
  ASSERT_TRUE(reader.Start(server.port(), http::verb::post, "/stream", "{}").ok()) << reader.error();
  EXPECT_EQ(reader.status(), 200);
  EXPECT_EQ(reader.headers()["x-test"], "yes");
  EXPECT_EQ(reader.NextChunk(seconds(10)), "data: one\n\n");
  EXPECT_FALSE(reader.finished());
  server.Release();
  EXPECT_EQ(reader.ReadToEnd(seconds(10)), "data: two\n\n");
  EXPECT_TRUE(reader.ClosedCleanly());
  EXPECT_EQ(reader.error(), "");
  EXPECT_EQ(reader.NextChunk(seconds(1)), std::nullopt);
}

TEST(Http2ClientTest, ResetMidBodyIsAnErrorNeverACleanEnd) {
  ScriptedH2Server server;
  StreamReader reader(kH2c);
  ASSERT_TRUE(reader.Start(server.port(), http::verb::get, "/reset").ok()) << reader.error();
  EXPECT_EQ(reader.ReadToEnd(seconds(10)), "data: one\n\n");
  EXPECT_TRUE(reader.finished());
  EXPECT_FALSE(reader.ClosedCleanly());
  EXPECT_EQ(reader.error(), "stream reset: INTERNAL_ERROR");

  HttpResponse whole = Request(kH2c, server.port(), http::verb::get, "/reset");
  EXPECT_EQ(whole.status, 200);
  EXPECT_EQ(whole.body, "data: one\n\n");
  EXPECT_EQ(whole.error, "stream reset: INTERNAL_ERROR");
}

TEST(Http2ClientTest, GoawayMidBodyIsAnErrorNeverACleanEnd) {
  ScriptedH2Server server;
  StreamReader reader(kH2c);
  ASSERT_TRUE(reader.Start(server.port(), http::verb::get, "/goaway").ok()) << reader.error();
  EXPECT_EQ(reader.ReadToEnd(seconds(10)), "data: one\n\n");
  EXPECT_FALSE(reader.ClosedCleanly());
  EXPECT_THAT(reader.error(), HasSubstr("connection: "));
}

TEST(Http2ClientTest, CancelResetsOnlyItsStream) {
  ScriptedH2Server server;
  HttpConnection connection(kH2c);
  ASSERT_TRUE(connection.Connect(server.port()).ok());
  StreamReader cancelled;
  ASSERT_TRUE(cancelled.Start(connection, http::verb::get, "/stream").ok()) << cancelled.error();
  EXPECT_EQ(cancelled.NextChunk(seconds(10)), "data: one\n\n");
  cancelled.Cancel();
  EXPECT_TRUE(cancelled.finished());
  EXPECT_FALSE(cancelled.ClosedCleanly());
  EXPECT_EQ(cancelled.error(), "cancelled");
  HttpResponse after = connection.Send(http::verb::get, "/echo");
  EXPECT_EQ(after.status, 200) << after.error;
  EXPECT_EQ(server.resets_received(), 1);
}

TEST(Http2ClientTest, TimeoutFinishesTheReaderButNotTheConnection) {
  ScriptedH2Server server;
  HttpConnection connection(kH2c);
  ASSERT_TRUE(connection.Connect(server.port()).ok());
  StreamReader reader;
  ASSERT_TRUE(reader.Start(connection, http::verb::get, "/stream").ok()) << reader.error();
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(reader.ReadToEnd(milliseconds(300)), "data: one\n\n");
  // Waited out the deadline (less the rounding of what is left of it to milliseconds).
  EXPECT_GE(std::chrono::steady_clock::now() - before, milliseconds(290));
  EXPECT_FALSE(reader.ClosedCleanly());
  EXPECT_EQ(reader.error(), "timeout");
  EXPECT_EQ(connection.Send(http::verb::get, "/echo").status, 200);
}

TEST(Http2ClientTest, RequestToClosedPortReportsConnectError) {
  uint16_t port;
  {
    asio::io_context ioc;
    tcp::acceptor probe(ioc, {asio::ip::address_v4::loopback(), 0});
    port = probe.local_endpoint().port();
  }
  HttpResponse r = Request(kH2c, port, http::verb::get, "/", {}, {}, seconds(5));
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.error, HasSubstr("connect 127.0.0.1:"));
}

class Http2TlsClientTest : public ::testing::Test {
 protected:
  TestPki pki_;
  TempFile ca_file_{"ca.pem", pki_.ca_pem()};
  CertifiedKey cert_ = pki_.Issue({}, {"127.0.0.1"});
};

TEST_F(Http2TlsClientTest, RequestOverTlsNegotiatesH2ByAlpn) {
  ScriptedH2Server server(ScriptedH2Server::Tls{cert_});
  HttpResponse r = Request({HttpProtocol::kHttp2, ca_file_.path()}, server.port(), http::verb::post, "/echo", "{}");
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(ParseJson(r.body).at("body").as_string(), "{}");
}

TEST_F(Http2TlsClientTest, UntrustedCertificateFailsTheHandshake) {
  TestPki other;
  ScriptedH2Server server(ScriptedH2Server::Tls{other.Issue({}, {"127.0.0.1"})});
  HttpResponse r = Request({HttpProtocol::kHttp2, ca_file_.path()}, server.port(), http::verb::get, "/echo");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.error, HasSubstr("certificate verify failed"));
}

TEST_F(Http2TlsClientTest, ServerWithoutH2AlpnIsRefused) {
  ScriptedH2Server server(ScriptedH2Server::Tls{cert_, "http/1.1"});
  HttpResponse r = Request({HttpProtocol::kHttp2, ca_file_.path()}, server.port(), http::verb::get, "/echo");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.error, HasSubstr("did not select h2 by ALPN"));
}

TEST(Http2ClientOptionsTest, TlsOverHttp1IsRefusedWithAReason) {
  HttpResponse r = Request({HttpProtocol::kHttp1, "/nonexistent/ca.pem"}, 1, http::verb::get, "/");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error, "TLS is supported with HttpProtocol::kHttp2 only");
}

}  // namespace
}  // namespace llmesh::testing
