#include "tests/unit/proxy/upstream/test_server.h"

#include <chrono>
#include <exception>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"

namespace llmesh::upstream::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

int SelectHttp11(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
                 unsigned int in_length, void*) {
  static constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, kHttp11, sizeof(kHttp11), in, in_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

int SelectByPolicy(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
                   unsigned int in_length, void* arg) {
  AlpnPolicy& policy = *static_cast<AlpnPolicy*>(arg);
  policy.offered.clear();
  std::vector<std::string_view> offered;
  for (unsigned int i = 0; i < in_length;) {
    const unsigned int length = in[i];
    if (i + 1 + length > in_length) return SSL_TLSEXT_ERR_ALERT_FATAL;
    offered.emplace_back(reinterpret_cast<const char*>(in + i + 1), length);
    i += 1 + length;
  }
  for (std::string_view protocol : offered) {
    absl::StrAppend(&policy.offered, policy.offered.empty() ? "" : ",", AbslView(protocol));
  }
  if (policy.accept.empty()) return SSL_TLSEXT_ERR_NOACK;
  for (const std::string& wanted : policy.accept) {
    for (std::string_view protocol : offered) {
      if (protocol != wanted) continue;
      *out = reinterpret_cast<const unsigned char*>(protocol.data());
      *out_length = static_cast<unsigned char>(protocol.size());
      return SSL_TLSEXT_ERR_OK;
    }
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

}  // namespace

Event::Event(asio::io_context& io) : timer_(io, std::chrono::steady_clock::now() + std::chrono::hours(24)) {}

void Event::Set() {
  set_ = true;
  timer_.cancel();
}

asio::awaitable<void> Event::Wait() {
  // Only Set (a cancel) or the day-long expiry wakes the timer.
  while (!set_) co_await timer_.async_wait(kAwait);
}

ServerConnection::ServerConnection(tcp::socket socket, ssl::context* tls, int index) : index_(index) {
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  if (tls != nullptr) {
    tls_.emplace(std::move(socket), *tls);
  } else {
    plain_.emplace(std::move(socket));
  }
}

std::string ServerConnection::server_name() {
  if (!tls_) return "";
  const char* name = SSL_get_servername(tls_->native_handle(), TLSEXT_NAMETYPE_host_name);
  return name == nullptr ? "" : name;
}

std::string ServerConnection::alpn() {
  if (!tls_) return "";
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(tls_->native_handle(), &data, &length);
  return std::string(reinterpret_cast<const char*>(data), length);
}

asio::awaitable<void> ServerConnection::Handshake() {
  if (!tls_ || !ok_) co_return;
  auto [ec] = co_await tls_->async_handshake(ssl::stream_base::server, kAwait);
  ok_ = !ec;
}

asio::awaitable<void> ServerConnection::ReadRequest(Request& request) {
  request = {};
  if (!ok_) co_return;
  beast::error_code ec;
  if (tls_) {
    std::tie(ec, std::ignore) = co_await http::async_read(*tls_, buffer_, request, kAwait);
  } else {
    std::tie(ec, std::ignore) = co_await http::async_read(*plain_, buffer_, request, kAwait);
  }
  ok_ = !ec;
}

asio::awaitable<void> ServerConnection::Write(std::string_view bytes) {
  if (!ok_) co_return;
  beast::error_code ec;
  if (tls_) {
    std::tie(ec, std::ignore) = co_await asio::async_write(*tls_, asio::buffer(bytes), kAwait);
  } else {
    std::tie(ec, std::ignore) = co_await asio::async_write(*plain_, asio::buffer(bytes), kAwait);
  }
  ok_ = !ec;
}

asio::awaitable<void> ServerConnection::WaitForClientClose() {
  if (!ok_) co_return;
  char scratch[4096];
  // Every pass either reads bytes the client sent or ends on EOF/error.
  for (;;) {
    beast::error_code ec;
    if (tls_) {
      std::tie(ec, std::ignore) = co_await tls_->async_read_some(asio::buffer(scratch), kAwait);
    } else {
      std::tie(ec, std::ignore) = co_await plain_->async_read_some(asio::buffer(scratch), kAwait);
    }
    if (ec) {
      ok_ = false;
      co_return;
    }
  }
}

void ServerConnection::Close() {
  ok_ = false;
  beast::error_code ignored;
  tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
  tcp().close();
}

void ServerConnection::Reset() {
  ok_ = false;
  beast::error_code ignored;
  tcp().socket().set_option(asio::socket_base::linger(true, 0), ignored);
  tcp().close();
}

TestServer::TestServer(asio::io_context& io, Handler handler, ssl::context* tls)
    : io_(io), handler_(std::move(handler)), tls_(tls), acceptor_(io) {
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  accepting_ = true;
  asio::co_spawn(io_, AcceptLoop(), [this](std::exception_ptr error) {
    accepting_ = false;
    if (error) ADD_FAILURE() << "test server accept loop threw";
  });
}

TestServer::~TestServer() {
  Stop();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((accepting_ || finished_ < accepted_) && std::chrono::steady_clock::now() < deadline) {
    if (io_.stopped()) io_.restart();
    if (io_.run_one_until(deadline) == 0) break;
  }
  EXPECT_EQ(finished_, accepted_) << "test server handlers still running";
}

Event& TestServer::NewEvent() { return events_.emplace_back(io_); }

void TestServer::Stop() {
  beast::error_code ignored;
  acceptor_.close(ignored);
  for (ServerConnection& connection : connections_) connection.Reset();
  for (Event& event : events_) event.Set();
}

asio::awaitable<void> TestServer::AcceptLoop() {
  // Ends when Stop closes the acceptor.
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(kAwait);
    if (ec) co_return;
    ++accepted_;
    ServerConnection& connection = connections_.emplace_back(std::move(socket), tls_, accepted_);
    asio::co_spawn(io_, Serve(connection), [this](std::exception_ptr error) {
      ++finished_;
      if (error) ADD_FAILURE() << "test server handler threw";
    });
  }
}

asio::awaitable<void> TestServer::Serve(ServerConnection& connection) {
  co_await connection.Handshake();
  if (connection.ok()) co_await handler_(connection);
  connection.Close();
}

std::string Response(int status, std::string_view body, std::string_view extra_headers) {
  return absl::StrCat("HTTP/1.1 ", status, " X\r\nContent-Length: ", body.size(), "\r\n", AbslView(extra_headers),
                      "\r\n", AbslView(body));
}

std::unique_ptr<ssl::context> ServerTlsContext(const std::string& cert_pem, const std::string& key_pem) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  context->use_certificate_chain(asio::buffer(cert_pem));
  context->use_private_key(asio::buffer(key_pem), ssl::context::pem);
  SSL_CTX_set_alpn_select_cb(context->native_handle(), SelectHttp11, nullptr);
  return context;
}

std::unique_ptr<ssl::context> ServerTlsContext(const std::string& cert_pem, const std::string& key_pem,
                                               AlpnPolicy* policy) {
  std::unique_ptr<ssl::context> context = ServerTlsContext(cert_pem, key_pem);
  SSL_CTX_set_alpn_select_cb(context->native_handle(), SelectByPolicy, policy);
  return context;
}

}  // namespace llmesh::upstream::testing
