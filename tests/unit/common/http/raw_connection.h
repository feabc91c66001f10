// Test-only: a blocking HTTP/1.1 client connection with a deadline on every operation, for
// tests that need byte-level control (garbage, partial requests, chunk-by-chunk reads, closes
// and resets). Each operation runs a private io_context until the operation completes or its
// timeout passes; nothing here sleeps.
//
// Threading: one test thread per RawConnection.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace llmesh::http::testing {

class RawConnection {
 public:
  using Response = boost::beast::http::response<boost::beast::http::string_body>;
  enum class CloseKind { kClosed, kReset, kTimeout };

  explicit RawConnection(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : socket_(context_), timeout_(timeout) {
    boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), port);
    bool done = false;
    socket_.async_connect(endpoint, [&](const boost::system::error_code& ec) {
      connect_error_ = ec;
      done = true;
    });
    if (!Run(done)) connect_error_ = boost::asio::error::timed_out;
    if (!connect_error_) socket_.set_option(boost::asio::ip::tcp::no_delay(true));
  }

  bool connected() const { return !connect_error_; }
  boost::system::error_code connect_error() const { return connect_error_; }

  // Writes all of `bytes`; false on error or timeout.
  bool Send(std::string_view bytes) {
    bool done = false;
    boost::system::error_code error;
    boost::asio::async_write(socket_, boost::asio::buffer(bytes),
                             [&](const boost::system::error_code& ec, size_t) {
                               error = ec;
                               done = true;
                             });
    return Run(done) && !error;
  }

  // Reads one complete response (any framing); nullopt on error, close or timeout.
  std::optional<Response> ReadResponse() {
    boost::beast::http::response_parser<boost::beast::http::string_body> parser;
    parser.body_limit(64 << 20);
    bool done = false;
    boost::system::error_code error;
    boost::beast::http::async_read(socket_, buffer_, parser,
                                   [&](const boost::system::error_code& ec, size_t) {
                                     error = ec;
                                     done = true;
                                   });
    if (!Run(done) || error) return std::nullopt;
    return parser.release();
  }

  // Reads raw bytes until `needle` appears in the bytes not yet returned; returns everything
  // up to and including the needle, keeps the rest. nullopt on error, close or timeout.
  std::optional<std::string> ReadUntil(std::string_view needle) {
    // Bounded: every round either finds the needle, fails, or adds at least one byte, and the
    // total is capped.
    while (buffer_.size() < (64 << 20)) {
      std::string pending = Pending();
      size_t found = pending.find(needle);
      if (found != std::string::npos) {
        buffer_.consume(found + needle.size());
        return pending.substr(0, found + needle.size());
      }
      if (!ReadMore()) return std::nullopt;
    }
    return std::nullopt;
  }

  // Everything received but not yet returned by ReadUntil/ReadResponse.
  std::string Pending() const { return boost::beast::buffers_to_string(buffer_.data()); }

  // Waits for the server to end the connection; bytes that arrive meanwhile are kept in
  // Pending().
  CloseKind WaitForClose() {
    // Bounded: each round adds at least one byte, up to the cap.
    while (buffer_.size() < (64 << 20)) {
      bool done = false;
      boost::system::error_code error;
      size_t n = 0;
      socket_.async_read_some(buffer_.prepare(4096),
                              [&](const boost::system::error_code& ec, size_t bytes) {
                                error = ec;
                                n = bytes;
                                done = true;
                              });
      if (!Run(done)) return CloseKind::kTimeout;
      if (error == boost::asio::error::eof) return CloseKind::kClosed;
      if (error) return CloseKind::kReset;
      buffer_.commit(n);
    }
    return CloseKind::kTimeout;
  }

  // Reads at least one more byte into the pending bytes; false on error, close or timeout.
  bool ReadMore() {
    bool done = false;
    boost::system::error_code error;
    size_t n = 0;
    socket_.async_read_some(buffer_.prepare(4096),
                            [&](const boost::system::error_code& ec, size_t bytes) {
                              error = ec;
                              n = bytes;
                              done = true;
                            });
    if (!Run(done) || error) return false;
    buffer_.commit(n);
    return true;
  }

  // Closes the client side.
  void Close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  // Runs the private context until `done` or the timeout; on timeout cancels the operation
  // and lets its handler run. True when the operation finished in time.
  bool Run(bool& done) {
    context_.restart();
    context_.run_for(timeout_);
    if (done) return true;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    context_.restart();
    context_.run();
    return false;
  }

  boost::asio::io_context context_;
  boost::asio::ip::tcp::socket socket_;
  std::chrono::milliseconds timeout_;
  boost::beast::flat_buffer buffer_;
  boost::system::error_code connect_error_;
};

}  // namespace llmesh::http::testing
