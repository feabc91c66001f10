// HttpServer over HTTP/2: h2c with prior knowledge and h2 over TLS by ALPN, driven by a client
// written on nghttp2's own client API.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "absl/strings/match.h"
#include "common/http/server.h"
#include "gtest/gtest.h"
#include "tests/fakes/test_pki.h"
#include "tests/unit/common/http/raw_connection.h"
#include "tests/unit/common/http2/h2_test_client.h"

namespace llmesh::http {
namespace {

namespace bhttp = boost::beast::http;
using http2::testing::H2TestClient;
using std::chrono::milliseconds;

constexpr milliseconds kWait{5000};

// Counters a handler bumps on its worker and the test waits on.
class Events {
 public:
  void Bump(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[name];
    cv_.notify_all();
  }
  bool WaitFor(const std::string& name, int count) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return counts_[name] >= count; });
  }
  int Count(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_[name];
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int> counts_;
};

class H2Handler : public Handler {
 public:
  explicit H2Handler(asio::io_context& context) : context_(context), gate_(context) {}

  asio::awaitable<void> Handle(Request& request, ResponseWriter& writer) override {
    const std::string target(request.target());
    events_.Bump("entered " + target);
    if (target == "/stream") {
      bhttp::response_header<> head;
      head.result(bhttp::status::ok);
      head.set(bhttp::field::content_type, "text/event-stream");
      if (!(co_await writer.StartStream(std::move(head), {})).ok()) co_return;
      if (!(co_await writer.Write("one")).ok()) co_return;
      co_await WaitGate();
      if (!(co_await writer.Write("two")).ok()) co_return;
      (void)co_await writer.Finish();
      co_return;
    }
    if (target == "/stream-last") {
      bhttp::response_header<> head;
      head.result(bhttp::status::ok);
      if (!(co_await writer.StartStream(std::move(head), "first")).ok()) co_return;
      (void)co_await writer.FinishWith("last");
      co_return;
    }
    if (target == "/abort") {
      bhttp::response_header<> head;
      head.result(bhttp::status::ok);
      (void)co_await writer.StartStream(std::move(head), {});
      (void)co_await writer.Write("partial");
      co_return;
    }
    if (target == "/reset") {
      writer.ResetConnection();
      co_return;
    }
    if (target == "/hang") {
      co_await writer.WaitUntilClientGone();
      events_.Bump("gone");
      co_return;
    }
    if (target == "/wait") co_await WaitGate();
    Response response(bhttp::status::ok, request.version());
    response.set("x-method", request.method_string());
    response.set("x-host", request[bhttp::field::host]);
    response.set("x-version", std::to_string(request.version()));
    // Connection-specific fields a handler may set for HTTP/1.1; h2 must drop them.
    response.set(bhttp::field::connection, "keep-alive");
    response.set("keep-alive", "timeout=5");
    response.body() = request.body();
    (void)co_await writer.Send(std::move(response));
  }

  Response Reject(bhttp::status status, std::string_view reason, std::string_view) override {
    Response response(status, 11);
    response.set(bhttp::field::content_type, "text/plain");
    response.body() = "rejected: " + std::string(reason);
    return response;
  }

  void OpenGate() {
    asio::post(context_, [this] {
      open_ = true;
      gate_.cancel();
    });
  }
  Events& events() { return events_; }

 private:
  asio::awaitable<void> WaitGate() {
    while (!open_) {
      gate_.expires_at(std::chrono::steady_clock::time_point::max());
      auto [ec] = co_await gate_.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec && !open_) co_return;  // cancelled by the server
    }
  }

  asio::io_context& context_;
  asio::steady_timer gate_;
  bool open_ = false;
  Events events_;
};

class H2ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerLimits limits = {}, std::optional<ServerTlsFiles> tls = std::nullopt) {
    workers_ = std::make_unique<IoWorkers>(1);
    handler_ = std::make_unique<H2Handler>(workers_->context(0));
    ServerOptions options;
    options.name = "test";
    options.limits = limits;
    options.tls = std::move(tls);
    server_ = std::make_unique<HttpServer>(*workers_, options,
                                           [this](size_t) -> Handler& { return *handler_; });
    ASSERT_TRUE(server_->Start().ok());
    workers_->Start();
  }

  void StartTlsServer() {
    const llmesh::testing::CertifiedKey issued = pki_.Issue({"localhost"}, {"127.0.0.1"});
    cert_ = std::make_unique<llmesh::testing::TempFile>("cert.pem", issued.cert_pem);
    key_ = std::make_unique<llmesh::testing::TempFile>("key.pem", issued.key_pem);
    StartServer({}, ServerTlsFiles{cert_->path(), key_->path()});
  }

  void TearDown() override {
    if (server_) {
      server_->Stop();
      EXPECT_TRUE(server_->WaitUntilStopped(kWait));
    }
    if (workers_) {
      workers_->Stop();
      workers_->Join();
    }
    server_.reset();
    handler_.reset();
    workers_.reset();
  }

  H2Handler& handler() { return *handler_; }

  llmesh::testing::TestPki pki_;
  std::unique_ptr<llmesh::testing::TempFile> cert_;
  std::unique_ptr<llmesh::testing::TempFile> key_;
  std::unique_ptr<IoWorkers> workers_;
  std::unique_ptr<H2Handler> handler_;
  std::unique_ptr<HttpServer> server_;
};

boost::asio::ssl::context ClientTls(std::string_view alpn) {
  boost::asio::ssl::context context(boost::asio::ssl::context::tls_client);
  context.set_verify_mode(boost::asio::ssl::verify_none);
  if (!alpn.empty()) {
    SSL_CTX_set_alpn_protos(context.native_handle(),
                            reinterpret_cast<const unsigned char*>(alpn.data()),
                            static_cast<unsigned>(alpn.size()));
  }
  return context;
}

TEST_F(H2ServerTest, ServesH2cRequestWithPriorKnowledge) {
  StartServer();
  H2TestClient client(server_->port());
  ASSERT_TRUE(client.connected());
  const int32_t id = client.Submit("POST", "/echo", "hello");
  ASSERT_TRUE(client.WaitClosed(id));
  const H2TestClient::Stream& stream = client.stream(id);
  EXPECT_EQ(stream.error_code, 0u);
  EXPECT_EQ(stream.status, 200);
  EXPECT_EQ(stream.body, "hello");
  EXPECT_EQ(stream.Header("content-length"), "5");
  EXPECT_EQ(stream.Header("x-method"), "POST");
  EXPECT_EQ(stream.Header("x-host"), "127.0.0.1");
  EXPECT_EQ(stream.Header("x-version"), "20");
  EXPECT_EQ(stream.Header("connection"), "");
  EXPECT_EQ(stream.Header("keep-alive"), "");
}

TEST_F(H2ServerTest, ServesHttp11AndH2cOnTheSamePort) {
  StartServer();
  testing::RawConnection http1(server_->port());
  ASSERT_TRUE(http1.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto response = http1.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 200);
  EXPECT_EQ((*response)["x-version"], "11");

  H2TestClient client(server_->port());
  const int32_t id = client.Submit("GET", "/echo");
  ASSERT_TRUE(client.WaitClosed(id));
  EXPECT_EQ(client.stream(id).status, 200);
}

TEST_F(H2ServerTest, SendsEachWriteAsDataBeforeTheNextOne) {
  StartServer();
  H2TestClient client(server_->port());
  const int32_t id = client.Submit("GET", "/stream");
  // The handler is held between its writes: the first chunk must already be here.
  ASSERT_TRUE(client.PumpUntil([&] { return client.stream(id).body == "one"; }));
  EXPECT_EQ(client.stream(id).status, 200);
  EXPECT_FALSE(client.stream(id).closed);
  handler().OpenGate();
  ASSERT_TRUE(client.WaitClosed(id));
  EXPECT_EQ(client.stream(id).error_code, 0u);
  EXPECT_TRUE(client.stream(id).end_stream);
  EXPECT_EQ(client.stream(id).chunks, (std::vector<std::string>{"one", "two"}));
}

TEST_F(H2ServerTest, TheLastWriteOfAStreamCarriesItsEnd) {
  StartServer();
  H2TestClient client(server_->port());
  const int32_t id = client.Submit("GET", "/stream-last");
  ASSERT_TRUE(client.WaitClosed(id));
  EXPECT_EQ(client.stream(id).error_code, 0u);
  EXPECT_EQ(client.stream(id).chunks, (std::vector<std::string>{"first", "last"}));
  EXPECT_TRUE(client.stream(id).end_stream);
  EXPECT_EQ(client.stream(id).end_stream_data, 4u) << "END_STREAM rides on the DATA frame of the last bytes";
}

TEST_F(H2ServerTest, ServesManyConcurrentStreamsOnOneConnection) {
  StartServer();
  H2TestClient client(server_->port());
  constexpr int kStreams = 50;
  std::vector<int32_t> ids;
  for (int i = 0; i < kStreams; ++i) ids.push_back(client.Submit("POST", "/wait", std::to_string(i)));
  // Every handler is running at once, each in its own coroutine.
  ASSERT_TRUE(client.PumpUntil([&] { return handler().events().Count("entered /wait") == kStreams; }));
  handler().OpenGate();
  ASSERT_TRUE(client.PumpUntil([&] {
    for (int32_t id : ids) {
      if (!client.stream(id).closed) return false;
    }
    return true;
  }));
  for (int i = 0; i < kStreams; ++i) {
    EXPECT_EQ(client.stream(ids[i]).status, 200);
    EXPECT_EQ(client.stream(ids[i]).body, std::to_string(i));
  }
  EXPECT_EQ(server_->accepted_connections(), 1u);
}

TEST_F(H2ServerTest, RejectsAnnouncedOversizedBodyWith413FromHandlerReject) {
  ServerLimits limits;
  limits.max_body_bytes = 10;
  StartServer(limits);
  H2TestClient client(server_->port());
  const int32_t id = client.Submit("POST", "/echo", std::string(11, 'x'), {{"content-length", "11"}});
  ASSERT_TRUE(client.PumpUntil([&] { return client.stream(id).status != 0 && client.stream(id).end_stream; }));
  EXPECT_EQ(client.stream(id).status, 413);
  EXPECT_EQ(client.stream(id).body, "rejected: request body too large");
  EXPECT_EQ(handler().events().Count("entered /echo"), 0);
}

TEST_F(H2ServerTest, RejectsStreamedOversizedBodyWith413) {
  ServerLimits limits;
  limits.max_body_bytes = 1000;
  StartServer(limits);
  H2TestClient client(server_->port());
  const int32_t id = client.Submit("POST", "/echo", std::string(100000, 'x'));
  ASSERT_TRUE(client.PumpUntil([&] { return client.stream(id).end_stream; }));
  EXPECT_EQ(client.stream(id).status, 413);
  EXPECT_EQ(handler().events().Count("entered /echo"), 0);
  // The connection goes on serving.
  const int32_t next = client.Submit("POST", "/echo", "ok");
  ASSERT_TRUE(client.WaitClosed(next));
  EXPECT_EQ(client.stream(next).body, "ok");
}

TEST_F(H2ServerTest, RejectsHugeHeadersWith431) {
  ServerLimits limits;
  limits.max_header_bytes = 1024;
  StartServer(limits);
  H2TestClient client(server_->port());
  const int32_t id = client.Submit("GET", "/echo", {}, {{"x-big", std::string(2000, 'a')}});
  ASSERT_TRUE(client.WaitClosed(id));
  EXPECT_EQ(client.stream(id).status, 431);
  EXPECT_EQ(client.stream(id).body, "rejected: request header fields too large");
}

TEST_F(H2ServerTest, ClientResetCompletesWaitUntilClientGone) {
  StartServer();
  H2TestClient client(server_->port());
  const int32_t id = client.Submit("GET", "/hang");
  ASSERT_TRUE(client.PumpUntil([&] { return handler().events().Count("entered /hang") == 1; }));
  client.Reset(id);
  ASSERT_TRUE(client.PumpUntil([&] { return handler().events().Count("gone") == 1; }));
  // Other streams on the connection are unaffected.
  const int32_t next = client.Submit("POST", "/echo", "still here");
  ASSERT_TRUE(client.WaitClosed(next));
  EXPECT_EQ(client.stream(next).body, "still here");
}

TEST_F(H2ServerTest, ResetsStreamWhenHandlerEndsWithoutFinish) {
  StartServer();
  H2TestClient client(server_->port());
  const int32_t id = client.Submit("GET", "/abort");
  ASSERT_TRUE(client.WaitClosed(id));
  EXPECT_EQ(client.stream(id).body, "partial");
  EXPECT_EQ(client.stream(id).error_code, static_cast<uint32_t>(NGHTTP2_INTERNAL_ERROR));
  EXPECT_FALSE(client.stream(id).end_stream);
}

TEST_F(H2ServerTest, ResetConnectionResetsOnlyThatStream) {
  StartServer();
  H2TestClient client(server_->port());
  const int32_t reset = client.Submit("GET", "/reset");
  const int32_t echo = client.Submit("POST", "/echo", "fine");
  ASSERT_TRUE(client.PumpUntil([&] { return client.stream(reset).closed && client.stream(echo).closed; }));
  EXPECT_EQ(client.stream(reset).error_code, static_cast<uint32_t>(NGHTTP2_INTERNAL_ERROR));
  EXPECT_EQ(client.stream(echo).body, "fine");
  EXPECT_FALSE(client.connection_closed());
}

TEST_F(H2ServerTest, DrainSendsGoAwayThenFinishesOpenStreams) {
  StartServer();
  H2TestClient client(server_->port());
  const int32_t id = client.Submit("POST", "/wait", "last");
  ASSERT_TRUE(client.PumpUntil([&] { return handler().events().Count("entered /wait") == 1; }));
  std::promise<void> drained;
  server_->Drain(kWait, [&] { drained.set_value(); });
  ASSERT_TRUE(client.PumpUntil([&] { return client.goaway_received(); }));
  EXPECT_EQ(client.goaway_last_stream_id(), id);
  EXPECT_FALSE(client.stream(id).closed);
  handler().OpenGate();
  ASSERT_TRUE(client.WaitClosed(id));
  EXPECT_EQ(client.stream(id).status, 200);
  EXPECT_EQ(client.stream(id).body, "last");
  ASSERT_TRUE(client.WaitConnectionClosed());
  EXPECT_EQ(drained.get_future().wait_for(kWait), std::future_status::ready);
}

TEST_F(H2ServerTest, SendsGoAwayToAnIdleConnectionAfterClientTimeout) {
  ServerLimits limits;
  limits.client_timeout = milliseconds(100);
  StartServer(limits);
  H2TestClient client(server_->port());
  ASSERT_TRUE(client.PumpUntil([&] { return client.goaway_received(); }));
  ASSERT_TRUE(client.WaitConnectionClosed());
}

TEST_F(H2ServerTest, AnswersARequestNeverCompletedWith408AfterClientTimeout) {
  ServerLimits limits;
  limits.client_timeout = milliseconds(200);
  StartServer(limits);
  H2TestClient client(server_->port());
  // HEADERS without END_STREAM, then nothing: the body never comes.
  std::vector<std::pair<std::string, std::string>> fields = {
      {":method", "POST"}, {":scheme", "http"}, {":authority", "127.0.0.1"}, {":path", "/echo"}};
  std::vector<nghttp2_nv> nva;
  for (auto& [name, value] : fields) {
    nva.push_back({reinterpret_cast<uint8_t*>(name.data()), reinterpret_cast<uint8_t*>(value.data()),
                   name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  const int32_t id =
      nghttp2_submit_headers(client.session(), NGHTTP2_FLAG_NONE, -1, nullptr, nva.data(), nva.size(), nullptr);
  ASSERT_GT(id, 0);
  ASSERT_TRUE(client.WaitClosed(id));
  EXPECT_EQ(client.stream(id).status, 408);
  EXPECT_EQ(client.stream(id).body, "rejected: request not received in time");
  // The answer is complete; the half the client never finished is reset without an error.
  EXPECT_EQ(client.stream(id).error_code, static_cast<uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_EQ(handler().events().Count("entered /echo"), 0);
  // The connection keeps serving.
  const int32_t next = client.Submit("POST", "/echo", "after");
  ASSERT_TRUE(client.WaitClosed(next));
  EXPECT_EQ(client.stream(next).body, "after");
}

TEST_F(H2ServerTest, ClosesConnectionOnGarbageAfterPrefaceAndKeepsServing) {
  StartServer();
  testing::RawConnection raw(server_->port());
  ASSERT_TRUE(raw.Send(std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") +
                       std::string(64, '\xff')));
  EXPECT_NE(raw.WaitForClose(), testing::RawConnection::CloseKind::kTimeout);

  H2TestClient client(server_->port());
  const int32_t id = client.Submit("POST", "/echo", "after");
  ASSERT_TRUE(client.WaitClosed(id));
  EXPECT_EQ(client.stream(id).body, "after");
}

TEST_F(H2ServerTest, StopCancelsRunningStreamsAndClosesTheConnection) {
  StartServer();
  H2TestClient client(server_->port());
  client.Submit("GET", "/wait");
  client.Submit("GET", "/hang");
  ASSERT_TRUE(client.PumpUntil([&] { return handler().events().Count("entered /hang") == 1 &&
                                            handler().events().Count("entered /wait") == 1; }));
  server_->Stop();
  EXPECT_TRUE(server_->WaitUntilStopped(kWait));
  ASSERT_TRUE(client.WaitConnectionClosed());
}

TEST_F(H2ServerTest, ServesH2OverTlsChosenByAlpn) {
  StartTlsServer();
  auto tls = ClientTls(std::string_view("\x02h2\x08http/1.1", 12));
  H2TestClient client(server_->port(), &tls);
  ASSERT_TRUE(client.connected());
  EXPECT_EQ(client.alpn(), "h2");
  const int32_t id = client.Submit("POST", "/echo", "secure");
  ASSERT_TRUE(client.WaitClosed(id));
  EXPECT_EQ(client.stream(id).status, 200);
  EXPECT_EQ(client.stream(id).body, "secure");
}

// Sends one HTTP/1.1 request over TLS offering `alpn` and returns the response.
std::optional<Response> Http11OverTls(uint16_t port, std::string_view alpn, std::string* selected) {
  asio::io_context context;
  auto tls = ClientTls(alpn);
  boost::beast::ssl_stream<asio::ip::tcp::socket> stream(context, tls);
  boost::system::error_code ec;
  stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (!ec) stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec) return std::nullopt;
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(stream.native_handle(), &data, &length);
  *selected = data ? std::string(reinterpret_cast<const char*>(data), length) : "";
  Request request(bhttp::verb::post, "/echo", 11);
  request.set(bhttp::field::host, "x");
  request.body() = "over tls";
  request.prepare_payload();
  bhttp::write(stream, request, ec);
  if (ec) return std::nullopt;
  boost::beast::flat_buffer buffer;
  Response response;
  bhttp::read(stream, buffer, response, ec);
  if (ec) return std::nullopt;
  return response;
}

TEST_F(H2ServerTest, ServesHttp11OverTlsWhenAlpnPicksIt) {
  StartTlsServer();
  std::string selected;
  auto response = Http11OverTls(server_->port(), std::string_view("\x08http/1.1", 9), &selected);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(selected, "http/1.1");
  EXPECT_EQ(response->result_int(), 200);
  EXPECT_EQ(response->body(), "over tls");
  EXPECT_EQ((*response)["x-version"], "11");
}

TEST_F(H2ServerTest, ServesHttp11OverTlsWithoutAlpn) {
  StartTlsServer();
  std::string selected = "unset";
  auto response = Http11OverTls(server_->port(), "", &selected);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(selected, "");
  EXPECT_EQ(response->body(), "over tls");
}

TEST(HttpServerTlsStartTest, FailsWithInvalidArgumentForMissingCertificate) {
  IoWorkers workers(1);
  class NoHandler : public Handler {
    asio::awaitable<void> Handle(Request&, ResponseWriter&) override { co_return; }
    Response Reject(bhttp::status status, std::string_view, std::string_view) override {
      return Response(status, 11);
    }
  } handler;
  ServerOptions options;
  options.tls = ServerTlsFiles{"/nonexistent/cert.pem", "/nonexistent/key.pem"};
  HttpServer server(workers, options, [&](size_t) -> Handler& { return handler; });
  const absl::Status status = server.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(status.message(), "cert_file: \"/nonexistent/cert.pem\""))
      << status.message();
}

}  // namespace
}  // namespace llmesh::http
