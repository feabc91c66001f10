#include "tests/fakes/test_http_client.h"

#include <algorithm>
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace llmesh::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr uint64_t kMaxResponseBody = 256ull << 20;

// Starts one asynchronous operation through `initiate(handler)` and runs the io_context until
// it completes. The tcp_stream's expiry (set by the caller) bounds it: on expiry Beast cancels
// the operation with error::timeout and closes the socket.
template <typename Initiate>
beast::error_code RunIo(asio::io_context& ioc, Initiate&& initiate) {
  beast::error_code result;
  initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

std::string Describe(std::string_view step, const beast::error_code& ec) {
  if (ec == beast::error::timeout) return "timeout";
  return std::string(step) + ": " + ec.message();
}

beast::error_code ConnectStream(asio::io_context& ioc, beast::tcp_stream& stream, uint16_t port,
                                std::chrono::milliseconds timeout) {
  stream.expires_after(timeout);
  beast::error_code ec = RunIo(ioc, [&](auto handler) {
    stream.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), std::move(handler));
  });
  if (!ec) stream.socket().set_option(tcp::no_delay(true), ec);
  return ec;
}

http::request<http::string_body> BuildRequest(uint16_t port, http::verb method,
                                              std::string_view target, std::string_view body,
                                              const HttpHeaders& headers) {
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, absl::StrCat("127.0.0.1:", port));
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = std::string(body);
  req.prepare_payload();
  // Caller headers go last so that a test can replace any default, framing included.
  for (const auto& [name, value] : headers) req.set(name, value);
  return req;
}

template <typename Body>
void CopyHead(const http::response<Body>& response, HttpResponse& out) {
  out.status = static_cast<int>(response.result_int());
  out.headers = static_cast<const http::fields&>(response.base());
  out.keep_alive = response.keep_alive();
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : std::string(it->value());
}

HttpResponse Request(uint16_t port, http::verb method, std::string_view target,
                     std::string_view body, const HttpHeaders& headers,
                     std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  HttpConnection connection;
  absl::Status connected = connection.Connect(port, timeout);
  if (!connected.ok()) {
    HttpResponse failed;
    failed.error = std::string(connected.message());
    return failed;
  }
  auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return connection.Send(method, target, body, headers,
                         std::max(remaining, std::chrono::milliseconds(1)));
}

HttpConnection::HttpConnection() : stream_(ioc_) {}

HttpConnection::~HttpConnection() { Close(); }

absl::Status HttpConnection::Connect(uint16_t port, std::chrono::milliseconds timeout) {
  buffer_.clear();
  port_ = port;
  beast::error_code ec = ConnectStream(ioc_, stream_, port, timeout);
  if (!ec) return absl::OkStatus();
  std::string what = Describe(absl::StrCat("connect 127.0.0.1:", port), ec);
  Close();
  return ec == beast::error::timeout ? absl::DeadlineExceededError(what)
                                     : absl::UnavailableError(what);
}

HttpResponse HttpConnection::Send(http::verb method, std::string_view target, std::string_view body,
                                  const HttpHeaders& headers, std::chrono::milliseconds timeout) {
  HttpResponse out;
  if (!is_open()) {
    out.error = "not connected";
    return out;
  }
  stream_.expires_after(timeout);
  http::request<http::string_body> req = BuildRequest(port_, method, target, body, headers);
  beast::error_code ec =
      RunIo(ioc_, [&](auto handler) { http::async_write(stream_, req, std::move(handler)); });
  if (ec) {
    out.error = Describe("write", ec);
    Close();
    return out;
  }

  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBody);
  if (method == http::verb::head) parser.skip(true);
  ec = RunIo(ioc_,
             [&](auto handler) { http::async_read(stream_, buffer_, parser, std::move(handler)); });
  if (parser.is_header_done()) CopyHead(parser.get(), out);
  out.body = std::move(parser.get().body());
  if (ec) {
    out.error = Describe("read", ec);
    Close();
  }
  return out;
}

bool HttpConnection::WaitForPeerClose(std::chrono::milliseconds timeout) {
  if (!is_open()) return true;
  if (buffer_.size() > 0) return false;
  stream_.expires_after(timeout);
  std::array<char, 512> scratch;
  size_t got = 0;
  beast::error_code ec = RunIo(ioc_, [&](auto handler) {
    stream_.async_read_some(asio::buffer(scratch), [&got, handler = std::move(handler)](
                                                       beast::error_code e, size_t n) mutable {
      got = n;
      handler(e);
    });
  });
  bool closed_by_peer = ec && ec != beast::error::timeout && got == 0;
  Close();
  return closed_by_peer;
}

bool HttpConnection::is_open() const { return stream_.socket().is_open(); }

uint16_t HttpConnection::local_port() const {
  beast::error_code ec;
  tcp::endpoint local = stream_.socket().local_endpoint(ec);
  return ec ? 0 : local.port();
}

void HttpConnection::Close() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
}

StreamReader::StreamReader() : stream_(ioc_) {}

StreamReader::~StreamReader() {
  beast::error_code ignored;
  stream_.socket().close(ignored);
}

absl::Status StreamReader::Start(uint16_t port, http::verb method, std::string_view target,
                                 std::string_view body, const HttpHeaders& headers,
                                 std::chrono::milliseconds timeout) {
  auto fail = [this](absl::Status status) {
    error_ = std::string(status.message());
    finished_ = true;
    beast::error_code ignored;
    stream_.socket().close(ignored);
    return status;
  };
  auto as_status = [](const beast::error_code& ec, std::string what) {
    return ec == beast::error::timeout ? absl::DeadlineExceededError(what)
                                       : absl::UnavailableError(what);
  };
  if (parser_.has_value()) return absl::FailedPreconditionError("StreamReader already started");
  parser_.emplace();
  parser_->body_limit(boost::none);
  if (method == http::verb::head) parser_->skip(true);

  beast::error_code ec = ConnectStream(ioc_, stream_, port, timeout);
  if (ec) return fail(as_status(ec, Describe(absl::StrCat("connect 127.0.0.1:", port), ec)));
  // The deadline covers sending the request and receiving the head, as one budget.
  stream_.expires_after(timeout);
  http::request<http::string_body> req = BuildRequest(port, method, target, body, headers);
  ec = RunIo(ioc_, [&](auto handler) { http::async_write(stream_, req, std::move(handler)); });
  if (ec) return fail(as_status(ec, Describe("write", ec)));
  ec = RunIo(ioc_, [&](auto handler) {
    http::async_read_header(stream_, buffer_, *parser_, std::move(handler));
  });
  if (ec) return fail(as_status(ec, Describe("read head", ec)));
  if (parser_->is_done()) {
    clean_end_ = true;
    finished_ = true;
  }
  return absl::OkStatus();
}

int StreamReader::status() const {
  return parser_.has_value() ? static_cast<int>(parser_->get().result_int()) : 0;
}

const http::fields& StreamReader::headers() const {
  static const http::fields* const kEmpty = new http::fields();
  return parser_.has_value() ? static_cast<const http::fields&>(parser_->get().base()) : *kEmpty;
}

std::optional<std::string> StreamReader::NextChunk(std::chrono::milliseconds timeout) {
  if (finished_ || !parser_.has_value()) return std::nullopt;
  stream_.expires_after(timeout);
  std::array<char, 16384> scratch;
  // One read may parse only framing (a chunk header); keep reading until body bytes arrive,
  // the body ends or the stream's deadline fails the read.
  while (true) {
    http::buffer_body::value_type& sink = parser_->get().body();
    sink.data = scratch.data();
    sink.size = scratch.size();
    beast::error_code ec = RunIo(ioc_, [&](auto handler) {
      http::async_read_some(stream_, buffer_, *parser_, std::move(handler));
    });
    if (ec == http::error::need_buffer) ec = {};
    size_t got = scratch.size() - parser_->get().body().size;
    if (ec) {
      error_ = Describe("read body", ec);
      finished_ = true;
      beast::error_code ignored;
      stream_.socket().close(ignored);
    } else if (parser_->is_done()) {
      clean_end_ = true;
      finished_ = true;
    }
    if (got > 0) {
      last_chunk_time_ = std::chrono::steady_clock::now();
      return std::string(scratch.data(), got);
    }
    if (finished_) return std::nullopt;
  }
}

std::string StreamReader::ReadToEnd(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string all;
  while (!finished_) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    std::optional<std::string> piece = NextChunk(std::max(remaining, std::chrono::milliseconds(1)));
    if (!piece.has_value()) break;
    all += *piece;
  }
  return all;
}

std::string RawExchange(uint16_t port, std::string_view raw, std::chrono::milliseconds timeout) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  if (ConnectStream(ioc, stream, port, timeout)) return "";
  // One deadline for writing and for everything read back.
  stream.expires_after(timeout);
  beast::error_code ec = RunIo(ioc, [&](auto handler) {
    asio::async_write(stream, asio::buffer(raw.data(), raw.size()), std::move(handler));
  });
  std::string received;
  std::array<char, 16384> scratch;
  // Each pass either appends bytes or ends with an error (EOF, reset, or the deadline).
  while (!ec) {
    size_t got = 0;
    ec = RunIo(ioc, [&](auto handler) {
      stream.async_read_some(asio::buffer(scratch), [&got, handler = std::move(handler)](
                                                        beast::error_code e, size_t n) mutable {
        got = n;
        handler(e);
      });
    });
    received.append(scratch.data(), got);
  }
  beast::error_code ignored;
  stream.socket().close(ignored);
  return received;
}

std::vector<SseEvent> ParseSse(std::string_view body) {
  std::vector<SseEvent> events;
  SseEvent current;
  bool has_data = false;
  auto dispatch = [&] {
    if (has_data) events.push_back(std::move(current));
    current = SseEvent();
    has_data = false;
  };
  while (!body.empty()) {
    size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body.remove_prefix(nl == std::string_view::npos ? body.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      dispatch();
      continue;
    }
    if (line.front() == ':') continue;
    size_t colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value =
        colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "data") {
      if (has_data) current.data += '\n';
      current.data += value;
      has_data = true;
    } else if (field == "event") {
      current.event = std::string(value);
    }
  }
  dispatch();
  return events;
}

std::vector<std::string> SseEvents(std::string_view body) {
  std::vector<std::string> data;
  for (SseEvent& e : ParseSse(body)) data.push_back(std::move(e.data));
  return data;
}

boost::json::value ParseJson(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) {
    ADD_FAILURE() << "invalid JSON (" << ec.message() << "): " << text;
    return nullptr;
  }
  return v;
}

}  // namespace llmesh::testing
