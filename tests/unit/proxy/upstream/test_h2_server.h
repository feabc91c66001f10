// A scriptable HTTP/2 server (h2c with prior knowledge, or TLS with ALPN "h2") on 127.0.0.1:0 for
// the upstream client's HTTP/2 tests, built on the server role of the nghttp2 core.
//
// Runs on the test's io_context, on the same thread as the client under test. Each request is
// recorded once it has ended and handed to the server's OnRequest callback, which may answer at
// once or leave the stream for the test to drive step by step (head, body pieces, RST_STREAM,
// GOAWAY with a chosen last stream id) between its own waits on the client.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "common/http2/session.h"

namespace llmesh::upstream::testing {

class H2ServerConnection;

// One request stream as the server sees it, and the state of its response.
struct H2Stream {
  H2ServerConnection* connection = nullptr;
  int32_t id = 0;
  std::string method;
  std::string scheme;
  std::string authority;
  std::string path;
  std::vector<std::pair<std::string, std::string>> fields;  // regular fields, in order
  std::string body;
  bool closed = false;
  uint32_t close_code = 0;  // RST_STREAM code once closed (NO_ERROR after a clean end)

  // The value of request field `name` (lowercase), or "" when absent.
  std::string Field(std::string_view name) const;
  // Response bytes not yet framed into DATA (flow control holds them back).
  size_t unsent() const;

  // Response body: `out.pending` walks `chunks` from `next_chunk` on.
  http2::OutboundBody out;
  std::deque<std::string> chunks;
  size_t next_chunk = 0;
  bool end_requested = false;
};

class H2ServerConnection {
 public:
  H2ServerConnection(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context* tls, int index);
  ~H2ServerConnection();

  int index() const { return index_; }
  bool ended() const { return ended_; }
  // The client sent GOAWAY.
  bool client_going_away() const { return client_going_away_; }

  // Sends an interim (1xx) response head.
  void Interim(H2Stream& stream, int status);
  // Sends the response head (":status" plus `fields`); END_STREAM with it when `end_stream`.
  void Respond(H2Stream& stream, int status, std::vector<std::pair<std::string, std::string>> fields = {},
               bool end_stream = false);
  // Queues a piece of the response body (after Respond); `end_stream` ends the body after it.
  void Send(H2Stream& stream, std::string data, bool end_stream);
  // RST_STREAM with `error_code`.
  void Reset(H2Stream& stream, uint32_t error_code);
  // GOAWAY naming `last_stream_id` as the last stream the server will process.
  void GoAway(int32_t last_stream_id, uint32_t error_code = NGHTTP2_NO_ERROR);
  // Closes the socket at once.
  void Close();

 private:
  friend class TestH2Server;
  class ServerSession;

  boost::asio::awaitable<void> Serve(class TestH2Server& server);
  void Pump(H2Stream& stream);

  boost::asio::ip::tcp::socket& tcp();

  std::optional<boost::asio::ip::tcp::socket> plain_;
  std::optional<boost::beast::ssl_stream<boost::asio::ip::tcp::socket>> tls_;
  std::unique_ptr<http2::Transport> transport_;
  std::unique_ptr<ServerSession> session_;
  int index_;
  bool ended_ = false;
  bool client_going_away_ = false;
};

class TestH2Server {
 public:
  // Called (inside the session's frame handling) for each request once it has ended.
  using OnRequest = std::function<void(H2Stream&)>;

  // Listens on 127.0.0.1:0 at once; `tls`, when set (with ALPN "h2"), must outlive the server.
  // `options` are the server sessions' settings (e.g. a low max_concurrent_streams).
  TestH2Server(boost::asio::io_context& io, OnRequest on_request, boost::asio::ssl::context* tls = nullptr,
               http2::SessionOptions options = {});
  TestH2Server(const TestH2Server&) = delete;
  TestH2Server& operator=(const TestH2Server&) = delete;
  // Stops, then runs the io_context until every connection has ended (bounded).
  ~TestH2Server();

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }
  // Connection `index` (1 for the first accepted).
  H2ServerConnection& connection(int index);
  // Requests that have ended, in the order they did.
  const std::vector<H2Stream*>& requests() const { return requests_; }
  // Request streams as they begin (before their body has arrived), in order.
  const std::deque<std::unique_ptr<H2Stream>>& streams() const { return streams_; }
  // When true, request bodies are not read (no WINDOW_UPDATE): uploads stall at the window.
  void set_hold_uploads(bool hold) { hold_uploads_ = hold; }
  // Closes the listener and every connection.
  void Stop();

 private:
  friend class H2ServerConnection;

  boost::asio::awaitable<void> AcceptLoop();

  boost::asio::io_context& io_;
  OnRequest on_request_;
  boost::asio::ssl::context* tls_;
  http2::SessionOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  int accepted_ = 0;
  int finished_ = 0;
  bool accepting_ = false;
  std::list<H2ServerConnection> connections_;
  std::deque<std::unique_ptr<H2Stream>> streams_;
  std::vector<H2Stream*> requests_;
  bool hold_uploads_ = false;
};

// An OnRequest that answers every request with `status`, a content-length and `body`.
TestH2Server::OnRequest Reply(int status, std::string body);

// A server TLS context with the given certificate chain and key (PEM) that agrees to ALPN "h2".
std::unique_ptr<boost::asio::ssl::context> H2ServerTlsContext(const std::string& cert_pem, const std::string& key_pem);

}  // namespace llmesh::upstream::testing
