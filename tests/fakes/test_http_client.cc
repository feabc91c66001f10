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
#include "tests/fakes/test_http2_client.h"

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

constexpr char kNoHttp1Tls[] = "TLS is supported with HttpProtocol::kHttp2 only";

std::chrono::milliseconds Remaining(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return std::max(left, std::chrono::milliseconds(1));
}

template <typename Body>
void CopyHead(const http::response<Body>& response, HttpResponse& out) {
  out.status = static_cast<int>(response.result_int());
  out.headers = static_cast<const http::fields&>(response.base());
  out.keep_alive = response.keep_alive();
}

}  // namespace

std::string ProtocolName(HttpProtocol protocol) {
  return protocol == HttpProtocol::kHttp2 ? "Http2" : "Http1";
}

void PrintTo(HttpProtocol protocol, std::ostream* out) { *out << ProtocolName(protocol); }

std::string HttpResponse::Header(std::string_view name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : std::string(it->value());
}

HttpResponse Request(uint16_t port, http::verb method, std::string_view target,
                     std::string_view body, const HttpHeaders& headers,
                     std::chrono::milliseconds timeout) {
  return Request(ClientOptions{}, port, method, target, body, headers, timeout);
}

HttpResponse Request(const ClientOptions& options, uint16_t port, http::verb method, std::string_view target,
                     std::string_view body, const HttpHeaders& headers, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  HttpConnection connection(options);
  absl::Status connected = connection.Connect(port, timeout);
  if (!connected.ok()) {
    HttpResponse failed;
    failed.error = std::string(connected.message());
    return failed;
  }
  return connection.Send(method, target, body, headers, Remaining(deadline));
}

HttpConnection::HttpConnection(ClientOptions options) : options_(std::move(options)), stream_(ioc_) {}

HttpConnection::~HttpConnection() { Close(); }

absl::Status HttpConnection::Connect(uint16_t port, std::chrono::milliseconds timeout) {
  buffer_.clear();
  port_ = port;
  if (options_.protocol == HttpProtocol::kHttp2) {
    h2_ = std::make_unique<Http2Connection>();
    return h2_->Connect(port, options_.ca_file, timeout);
  }
  if (!options_.ca_file.empty()) return absl::UnimplementedError(kNoHttp1Tls);
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
  if (h2_ != nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    absl::StatusOr<int32_t> id = h2_->Submit(method, target, body, headers, deadline);
    if (!id.ok()) {
      out.error = std::string(id.status().message());
      return out;
    }
    const absl::Status waited = h2_->WaitForEnd(*id, deadline);
    Http2Connection::Stream& stream = h2_->stream(*id);
    out.status = stream.status;
    out.headers = std::move(stream.headers);
    out.body = std::move(stream.data);
    out.error = waited.ok() ? stream.error : "timeout";
    out.keep_alive = h2_->is_open() && !h2_->goaway_received();
    h2_->Forget(*id);
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
  if (h2_ != nullptr) {
    const bool closed = h2_->WaitForConnectionEnd(std::chrono::steady_clock::now() + timeout).ok();
    h2_->Close();
    return closed;
  }
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

bool HttpConnection::is_open() const {
  return h2_ != nullptr ? h2_->is_open() : stream_.socket().is_open();
}

uint16_t HttpConnection::local_port() const {
  if (h2_ != nullptr) return h2_->local_port();
  beast::error_code ec;
  tcp::endpoint local = stream_.socket().local_endpoint(ec);
  return ec ? 0 : local.port();
}

void HttpConnection::Close() {
  if (h2_ != nullptr) h2_->Close();
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
}

StreamReader::StreamReader(ClientOptions options) : options_(std::move(options)), stream_(ioc_) {}

StreamReader::~StreamReader() {
  if (h2_ != nullptr) h2_->Forget(h2_stream_);
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
  if (parser_.has_value() || h2_ != nullptr) return absl::FailedPreconditionError("StreamReader already started");
  if (options_.protocol == HttpProtocol::kHttp2) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    own_h2_ = std::make_unique<Http2Connection>();
    if (absl::Status connected = own_h2_->Connect(port, options_.ca_file, timeout); !connected.ok()) {
      return fail(connected);
    }
    return StartHttp2(*own_h2_, method, target, body, headers, Remaining(deadline));
  }
  if (!options_.ca_file.empty()) return fail(absl::UnimplementedError(kNoHttp1Tls));
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

absl::Status StreamReader::Start(HttpConnection& connection, http::verb method, std::string_view target,
                                 std::string_view body, const HttpHeaders& headers,
                                 std::chrono::milliseconds timeout) {
  if (parser_.has_value() || h2_ != nullptr) return absl::FailedPreconditionError("StreamReader already started");
  if (connection.http2() == nullptr) {
    return absl::FailedPreconditionError("StreamReader::Start on a connection needs a connected HTTP/2 connection");
  }
  return StartHttp2(*connection.http2(), method, target, body, headers, timeout);
}

absl::Status StreamReader::StartHttp2(Http2Connection& connection, http::verb method, std::string_view target,
                                      std::string_view body, const HttpHeaders& headers,
                                      std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto fail = [this](absl::Status status) {
    error_ = std::string(status.message());
    finished_ = true;
    return status;
  };
  absl::StatusOr<int32_t> id = connection.Submit(method, target, body, headers, deadline);
  if (!id.ok()) return fail(id.status());
  h2_ = &connection;
  h2_stream_ = *id;
  absl::Status waited = connection.WaitForHead(*id, deadline);
  Http2Connection::Stream& stream = connection.stream(*id);
  if (!waited.ok()) {
    connection.Cancel(*id, deadline + std::chrono::seconds(1));
    return fail(waited);
  }
  if (!stream.head_done) return fail(absl::UnavailableError(absl::StrCat("read head: ", stream.error)));
  h2_status_ = stream.status;
  h2_headers_ = std::move(stream.headers);
  if (stream.data.empty() && (stream.closed || stream.end_stream)) {
    finished_ = true;
    clean_end_ = stream.end_stream;
    error_ = stream.error;
  }
  return absl::OkStatus();
}

void StreamReader::Cancel() {
  if (finished_) return;
  finished_ = true;
  error_ = "cancelled";
  if (h2_ != nullptr) {
    h2_->Cancel(h2_stream_, std::chrono::steady_clock::now() + std::chrono::seconds(1));
    return;
  }
  beast::error_code ignored;
  stream_.socket().close(ignored);
}

int StreamReader::status() const {
  if (h2_ != nullptr) return h2_status_;
  return parser_.has_value() ? static_cast<int>(parser_->get().result_int()) : 0;
}

const http::fields& StreamReader::headers() const {
  if (h2_ != nullptr) return h2_headers_;
  static const http::fields* const kEmpty = new http::fields();
  return parser_.has_value() ? static_cast<const http::fields&>(parser_->get().base()) : *kEmpty;
}

std::optional<std::string> StreamReader::NextChunk(std::chrono::milliseconds timeout) {
  if (h2_ != nullptr) return NextHttp2Chunk(timeout);
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

std::optional<std::string> StreamReader::NextHttp2Chunk(std::chrono::milliseconds timeout) {
  if (finished_) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const absl::Status waited = h2_->WaitForData(h2_stream_, deadline);
  Http2Connection::Stream& stream = h2_->stream(h2_stream_);
  std::string piece = std::move(stream.data);
  stream.data.clear();
  if (!waited.ok()) {
    // Like a timed-out HTTP/1.1 read, a timeout finishes the reader; only its stream goes.
    h2_->Cancel(h2_stream_, deadline + std::chrono::seconds(1));
    error_ = "timeout";
    finished_ = true;
  } else if (stream.closed || stream.end_stream) {
    finished_ = true;
    clean_end_ = stream.end_stream;
    error_ = stream.error;
  }
  if (!piece.empty()) {
    last_chunk_time_ = stream.last_data_time;
    return piece;
  }
  return std::nullopt;
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
