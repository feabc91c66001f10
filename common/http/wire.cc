#include "common/http/wire.h"

#include <algorithm>
#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace llmesh::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using boost::system::error_code;

void AppendVersion(unsigned version, std::string& out) {
  out.append(version == 10 ? "HTTP/1.0" : "HTTP/1.1");
}

void AppendFields(const bhttp::fields& fields, std::string& out) {
  for (const auto& field : fields) {
    const auto name = field.name_string();
    const auto value = field.value();
    out.append(name.data(), name.size());
    out.append(": ");
    out.append(value.data(), value.size());
    out.append("\r\n");
  }
  out.append("\r\n");
}

}  // namespace

void AppendRequestHead(const bhttp::request_header<>& head, std::string& out) {
  const auto method = head.method_string();
  const auto target = head.target();
  out.append(method.data(), method.size());
  out.push_back(' ');
  out.append(target.data(), target.size());
  out.push_back(' ');
  AppendVersion(head.version(), out);
  out.append("\r\n");
  AppendFields(head, out);
}

void AppendResponseHead(const bhttp::response_header<>& head, std::string& out) {
  AppendVersion(head.version(), out);
  const unsigned code = head.result_int() % 1000;
  const char status[] = {' ', static_cast<char>('0' + code / 100), static_cast<char>('0' + code / 10 % 10),
                         static_cast<char>('0' + code % 10), ' '};
  out.append(status, sizeof(status));
  const auto reason = head.reason();
  out.append(reason.data(), reason.size());
  out.append("\r\n");
  AppendFields(head, out);
}

size_t FormatChunkSize(size_t size, std::span<char, kChunkSizeLineBytes> line) {
  static constexpr char kHex[] = "0123456789abcdef";
  char digits[sizeof(size_t) * 2];
  size_t count = 0;
  do {
    digits[count++] = kHex[size & 0xf];
    size >>= 4;
  } while (size != 0);
  size_t length = 0;
  while (count > 0) line[length++] = digits[--count];
  line[length++] = '\r';
  line[length++] = '\n';
  return length;
}

asio::awaitable<error_code> WriteAll(asio::ip::tcp::socket& socket, std::span<const asio::const_buffer> buffers) {
  std::array<asio::const_buffer, kMaxWriteBuffers> rest{};
  const size_t count = std::min(buffers.size(), rest.size());
  std::copy_n(buffers.begin(), count, rest.begin());
  size_t first = 0;
  error_code ec;
  if (!socket.non_blocking()) socket.non_blocking(true, ec);
  // Each round writes some bytes or stops, so the rounds are bounded by the byte count.
  while (!ec) {
    while (first < count && rest[first].size() == 0) ++first;
    if (first == count) co_return error_code();
    size_t written = socket.write_some(std::span(rest.data() + first, count - first), ec);
    for (size_t i = first; i < count && written > 0; ++i) {
      const size_t used = std::min(written, rest[i].size());
      rest[i] += used;
      written -= used;
    }
  }
  if (ec != asio::error::would_block && ec != asio::error::try_again) co_return ec;
  auto [write_ec, ignored] = co_await asio::async_write(socket, std::span(rest.data() + first, count - first),
                                                        asio::as_tuple(asio::use_awaitable));
  co_return write_ec;
}

}  // namespace llmesh::http
