#include "common/http/wire.h"

#include <array>

namespace llmesh::http {
namespace {

namespace bhttp = boost::beast::http;

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

}  // namespace llmesh::http
