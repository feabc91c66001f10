// one_in_flight: the latency of each benchmark leg at one request in flight, the legs alternated
// request by request, for bench/run.sh. Each leg (a port on 127.0.0.1 that answers POST
// /v1/chat/completions over HTTP/1.1) gets one keep-alive connection (TCP_NODELAY); a cycle sends
// one request to every leg in turn, the starting leg rotating from cycle to cycle, so every leg
// sees the same machine state and follows every other leg equally often (a leg's afterglow, such
// as Node.js finishing its work after answering, lands on all the others alike). A request's
// latency runs from just before its write to the end of its response (Content-Length or chunked).
// After `--warmup` cycles, `--rounds` rounds of `--round-seconds` each; for every leg and round it
// appends one JSON line to PREFIX.LEG.jsonl, the shape wrk_report.lua prints:
// {"requests","duration_us","rps","errors","p50_us","p90_us","p99_us","mean_us"} (µs, nearest
// rank). An error (connect, write, read, a 10 s timeout, a status other than 2xx) closes that
// leg's connection, counts once and is not timed; the next request reconnects.
//   one_in_flight --body FILE --out PREFIX --rounds N --round-seconds S --warmup N
//                 --leg NAME=PORT... [--header NAME=Header: value...]
// Single-threaded, blocking sockets: a measuring client, not part of the proxy.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Leg {
  std::string name;
  int port = 0;
  std::string extra_headers;  // "Name: value\r\n" lines
  std::string request;        // the whole request, built once
  int fd = -1;
  std::vector<uint32_t> latencies_us;
  uint64_t errors = 0;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

void Close(Leg& leg) {
  if (leg.fd >= 0) close(leg.fd);
  leg.fd = -1;
}

bool Connect(Leg& leg) {
  leg.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (leg.fd < 0) return false;
  const int one = 1;
  setsockopt(leg.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  timeval timeout{.tv_sec = 10, .tv_usec = 0};
  setsockopt(leg.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(leg.fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(leg.port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(leg.fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    Close(leg);
    return false;
  }
  return true;
}

// How far a response in `data` is complete: its total length once all of it has arrived, 0 while
// more is needed, -1 if it cannot be parsed. Sets `status` and `close_after` from the head.
long ResponseLength(std::string_view data, int& status, bool& close_after) {
  const size_t head_end = data.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return 0;
  if (data.size() < 12 || data.substr(0, 5) != "HTTP/") return -1;
  status = std::atoi(std::string(data.substr(9, 3)).c_str());
  long content_length = -1;
  bool chunked = false;
  size_t line = data.find("\r\n") + 2;
  while (line < head_end) {
    const size_t next = data.find("\r\n", line);
    const std::string_view header = data.substr(line, next - line);
    const size_t colon = header.find(':');
    if (colon != std::string_view::npos) {
      const std::string_view name = header.substr(0, colon);
      std::string_view value = header.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (EqualsIgnoreCase(name, "content-length")) {
        content_length = std::atol(std::string(value).c_str());
      } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
        chunked = value.find("chunked") != std::string_view::npos;
      } else if (EqualsIgnoreCase(name, "connection")) {
        close_after = EqualsIgnoreCase(value, "close");
      }
    }
    line = next + 2;
  }
  const size_t body = head_end + 4;
  if (!chunked) {
    if (content_length < 0) return -1;
    const size_t total = body + static_cast<size_t>(content_length);
    return data.size() >= total ? static_cast<long>(total) : 0;
  }
  size_t at = body;
  while (true) {
    const size_t size_end = data.find("\r\n", at);
    if (size_end == std::string_view::npos) return 0;
    const size_t size = std::strtoul(std::string(data.substr(at, size_end - at)).c_str(), nullptr, 16);
    at = size_end + 2 + size + 2;  // the chunk and its CRLF (after the last, empty one: the end)
    if (data.size() < at) return 0;
    if (size == 0) return static_cast<long>(at);
  }
}

// Sends one request on the leg's connection and reads its answer; the latency in µs, or -1.
long Exchange(Leg& leg, std::string& buffer) {
  if (leg.fd < 0 && !Connect(leg)) return -1;
  const auto start = Clock::now();
  size_t sent = 0;
  while (sent < leg.request.size()) {
    const ssize_t n = send(leg.fd, leg.request.data() + sent, leg.request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return -1;
    sent += static_cast<size_t>(n);
  }
  buffer.clear();
  char chunk[65536];
  int status = 0;
  bool close_after = false;
  while (true) {
    const ssize_t n = recv(leg.fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return -1;
    buffer.append(chunk, static_cast<size_t>(n));
    const long length = ResponseLength(buffer, status, close_after);
    if (length < 0) return -1;
    if (length > 0) break;
  }
  const long us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
  if (close_after) Close(leg);
  return status >= 200 && status < 300 ? us : -1;
}

void Cycle(std::vector<Leg>& legs, size_t first, std::string& buffer, bool record) {
  for (size_t i = 0; i < legs.size(); ++i) {
    Leg& leg = legs[(first + i) % legs.size()];
    const long us = Exchange(leg, buffer);
    if (us < 0) Close(leg);
    if (!record) continue;
    if (us < 0) {
      ++leg.errors;
    } else {
      leg.latencies_us.push_back(static_cast<uint32_t>(us));
    }
  }
}

bool AppendRound(const Leg& leg, const std::string& prefix, double seconds) {
  std::vector<uint32_t> sorted = leg.latencies_us;
  std::sort(sorted.begin(), sorted.end());
  const auto rank = [&](double q) -> uint32_t {
    if (sorted.empty()) return 0;
    const size_t index = static_cast<size_t>(std::max(1.0, std::ceil(q * sorted.size()))) - 1;
    return sorted[std::min(index, sorted.size() - 1)];
  };
  double sum = 0;
  for (uint32_t us : sorted) sum += us;
  char line[512];
  std::snprintf(line, sizeof(line),
                "{\"requests\":%zu,\"duration_us\":%.0f,\"rps\":%.1f,\"errors\":%llu,\"p50_us\":%u,"
                "\"p90_us\":%u,\"p99_us\":%u,\"mean_us\":%.1f}\n",
                sorted.size(), seconds * 1e6, sorted.size() / seconds,
                static_cast<unsigned long long>(leg.errors), rank(0.5), rank(0.9), rank(0.99),
                sorted.empty() ? 0.0 : sum / sorted.size());
  std::ofstream out(prefix + "." + leg.name + ".jsonl", std::ios::app);
  out << line;
  return static_cast<bool>(out);
}

[[noreturn]] void Usage(const char* problem) {
  std::fprintf(stderr,
               "one_in_flight: %s\nusage: one_in_flight --body FILE --out PREFIX --rounds N "
               "--round-seconds S --warmup N --leg NAME=PORT... [--header NAME=Header: value...]\n",
               problem);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string body_file, prefix;
  int rounds = 1, warmup = 0;
  double round_seconds = 1;
  std::vector<Leg> legs;
  std::vector<std::pair<std::string, std::string>> headers;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) Usage("every flag takes a value");
    const std::string value = argv[++i];
    const size_t equals = value.find('=');
    if (flag == "--body") {
      body_file = value;
    } else if (flag == "--out") {
      prefix = value;
    } else if (flag == "--rounds") {
      rounds = std::atoi(value.c_str());
    } else if (flag == "--round-seconds") {
      round_seconds = std::atof(value.c_str());
    } else if (flag == "--warmup") {
      warmup = std::atoi(value.c_str());
    } else if (flag == "--leg" && equals != std::string::npos) {
      legs.push_back({.name = value.substr(0, equals), .port = std::atoi(value.c_str() + equals + 1)});
    } else if (flag == "--header" && equals != std::string::npos) {
      headers.emplace_back(value.substr(0, equals), value.substr(equals + 1));
    } else {
      Usage(("unknown flag or value: " + std::string(flag) + " " + value).c_str());
    }
  }
  if (body_file.empty() || prefix.empty() || legs.empty() || rounds < 1 || round_seconds <= 0) {
    Usage("--body, --out and at least one --leg are required");
  }
  std::ifstream in(body_file, std::ios::binary);
  const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) Usage("cannot read --body");
  for (const auto& [name, header] : headers) {
    for (Leg& leg : legs) {
      if (leg.name == name) leg.extra_headers += header + "\r\n";
    }
  }
  for (Leg& leg : legs) {
    leg.request = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(leg.port) +
                  "\r\nContent-Type: application/json\r\nAuthorization: Bearer bench-client\r\n" +
                  leg.extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  std::string buffer;
  size_t cycle = 0;
  for (int i = 0; i < warmup; ++i) Cycle(legs, cycle++, buffer, false);
  for (int round = 0; round < rounds; ++round) {
    for (Leg& leg : legs) {
      leg.latencies_us.clear();
      leg.errors = 0;
    }
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration<double>(round_seconds);
    while (Clock::now() < deadline) Cycle(legs, cycle++, buffer, true);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    for (const Leg& leg : legs) {
      if (!AppendRound(leg, prefix, seconds)) {
        std::fprintf(stderr, "one_in_flight: cannot write %s.%s.jsonl\n", prefix.c_str(), leg.name.c_str());
        return 1;
      }
    }
  }
  for (Leg& leg : legs) Close(leg);
  return 0;
}
