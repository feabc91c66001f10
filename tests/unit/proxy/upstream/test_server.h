// A scriptable HTTP/1.1 server (plain or TLS) on 127.0.0.1:0 for upstream client tests.
//
// Runs on the test's io_context, on the same thread as the client under test, so the test and
// the server's per-connection handler synchronise through Events instead of sleeps. Handlers
// speak raw bytes so tests can send exactly the framing they mean (chunking, resets, garbage).
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace llmesh::upstream::testing {

// A one-shot signal between coroutines on one io_context thread.
class Event {
 public:
  explicit Event(boost::asio::io_context& io);
  void Set();
  bool is_set() const { return set_; }
  // Returns once Set has been called (at once if it already was).
  boost::asio::awaitable<void> Wait();

 private:
  boost::asio::steady_timer timer_;
  bool set_ = false;
};

// One accepted connection, as a handler sees it.
class ServerConnection {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  ServerConnection(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context* tls, int index);

  // 1 for the first connection the server accepted, 2 for the second...
  int index() const { return index_; }
  // After the TLS handshake: the SNI name the client sent and the ALPN protocol agreed on.
  std::string server_name();
  std::string alpn();

  // False once an operation has failed (EOF, reset, handshake failure); every later operation
  // then returns at once, so handlers can be written as straight-line scripts.
  bool ok() const { return ok_; }

  // TLS handshake (no-op for plain).
  boost::asio::awaitable<void> Handshake();
  // Reads one request.
  boost::asio::awaitable<void> ReadRequest(Request& request);
  // Writes raw bytes.
  boost::asio::awaitable<void> Write(std::string_view bytes);
  // Reads and discards until the client closes the connection (or Stop closes it).
  boost::asio::awaitable<void> WaitForClientClose();
  // Orderly close: the client sees EOF.
  void Close();
  // Abortive close: the client sees a TCP reset.
  void Reset();

 private:
  boost::beast::tcp_stream& tcp() { return tls_ ? tls_->next_layer() : *plain_; }

  std::optional<boost::beast::tcp_stream> plain_;
  std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls_;
  boost::beast::flat_buffer buffer_;
  int index_;
  bool ok_ = true;
};

class TestServer {
 public:
  using Handler = std::function<boost::asio::awaitable<void>(ServerConnection&)>;

  // Listens on 127.0.0.1:0 at once; `tls`, when set, must outlive the server.
  TestServer(boost::asio::io_context& io, Handler handler, boost::asio::ssl::context* tls = nullptr);
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;
  // Stops, then runs the io_context until every handler has returned (bounded).
  ~TestServer();

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }
  // Handlers that have returned.
  int finished() const { return finished_; }
  // An Event owned by the server; Stop sets it so that no handler waits forever.
  Event& NewEvent();
  // Closes the listener and every connection and sets every Event.
  void Stop();

 private:
  boost::asio::awaitable<void> AcceptLoop();
  boost::asio::awaitable<void> Serve(ServerConnection& connection);

  boost::asio::io_context& io_;
  Handler handler_;
  boost::asio::ssl::context* tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  int accepted_ = 0;
  int finished_ = 0;
  bool accepting_ = false;
  std::list<ServerConnection> connections_;
  std::list<Event> events_;
};

// "HTTP/1.1 <status> X\r\nContent-Length: n\r\n<extra_headers>\r\n<body>"; each extra header
// line ends with "\r\n".
std::string Response(int status, std::string_view body, std::string_view extra_headers = {});

// A server TLS context with the given certificate chain and key (PEM) that agrees to ALPN
// "http/1.1" when the client offers it.
std::unique_ptr<boost::asio::ssl::context> ServerTlsContext(const std::string& cert_pem, const std::string& key_pem);

// What a test TLS server agrees to by ALPN, and what the client offered.
struct AlpnPolicy {
  // Protocols the server accepts, most preferred first; empty: the server ignores ALPN.
  std::vector<std::string> accept = {"http/1.1"};
  // The client's offer in the last handshake, comma-separated ("h2,http/1.1"); empty if none.
  std::string offered;
};

// ServerTlsContext whose ALPN answer follows `*policy`, which must outlive the context.
std::unique_ptr<boost::asio::ssl::context> ServerTlsContext(const std::string& cert_pem, const std::string& key_pem,
                                                            AlpnPolicy* policy);

}  // namespace llmesh::upstream::testing
