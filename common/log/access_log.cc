#include "common/log/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"

namespace llmesh::log {
namespace {

constexpr size_t kMinRingBytes = 4096;

// Writes all of `data`, resuming after signals and partial writes. Returns 0 or an errno.
int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

}  // namespace

void AppendAccessLine(std::string* out, const AccessRecord& r,
                      std::chrono::system_clock::time_point ts, TimestampFormatter* formatter) {
  out->append("{\"ts\":\"");
  formatter->Append(out, ts);
  out->append("\",\"request_id\":");
  AppendJsonString(out, r.request_id);
  out->append(",\"route\":");
  AppendJsonString(out, r.route);
  out->append(",\"provider\":");
  AppendJsonString(out, r.provider);
  out->append(",\"model\":");
  AppendJsonString(out, r.model);
  out->append(",\"method\":");
  AppendJsonString(out, r.method);
  out->append(",\"path\":");
  AppendJsonString(out, r.path);
  out->append(",\"status\":");
  AppendJsonNumber(out, static_cast<int64_t>(r.status));
  out->append(",\"attempts\":");
  AppendJsonNumber(out, static_cast<uint64_t>(r.attempts));
  out->append(",\"latency_ms\":");
  AppendJsonFixed(out, r.latency_ms, 3);
  out->append(",\"ttft_ms\":");
  if (r.ttft_ms < 0) {
    out->append("null");
  } else {
    AppendJsonFixed(out, r.ttft_ms, 3);
  }
  out->append(",\"prompt_tokens\":");
  AppendJsonNumber(out, r.prompt_tokens);
  out->append(",\"completion_tokens\":");
  AppendJsonNumber(out, r.completion_tokens);
  out->append(",\"cost_usd\":");
  AppendJsonNumber(out, r.cost_usd);
  out->append(r.stream ? ",\"stream\":true,\"error\":" : ",\"stream\":false,\"error\":");
  if (r.error.empty()) {
    out->append("null");
  } else {
    AppendJsonString(out, r.error);
  }
  out->append("}\n");
}

AccessLog::Writer::Writer(const std::atomic<bool>* enabled, size_t ring_bytes)
    : enabled_(enabled),
      capacity_(std::bit_ceil(std::max(ring_bytes, kMinRingBytes))),
      ring_(new char[capacity_]) {
  scratch_.reserve(1024);
}

void AccessLog::Writer::Write(const AccessRecord& record) {
  if (!enabled_->load(std::memory_order_relaxed)) return;
  scratch_.clear();
  AppendAccessLine(&scratch_, record, std::chrono::system_clock::now(), &timestamps_);

  const uint64_t head = head_.load(std::memory_order_relaxed);
  // Acquire pairs with the flusher's release of tail_: the bytes it freed are no longer read.
  const uint64_t tail = tail_.load(std::memory_order_acquire);
  const size_t n = scratch_.size();
  if (n > capacity_ - static_cast<size_t>(head - tail)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const size_t pos = static_cast<size_t>(head) & (capacity_ - 1);
  const size_t first = std::min(n, capacity_ - pos);
  std::memcpy(ring_.get() + pos, scratch_.data(), first);
  std::memcpy(ring_.get(), scratch_.data() + first, n - first);
  // Release publishes the copied bytes together with the new head: the flusher only ever sees
  // whole lines.
  head_.store(head + n, std::memory_order_release);
}

void AccessLog::Writer::DrainTo(std::string* out) {
  const uint64_t head = head_.load(std::memory_order_acquire);
  const uint64_t tail = tail_.load(std::memory_order_relaxed);
  if (head == tail) return;
  const size_t n = static_cast<size_t>(head - tail);
  const size_t pos = static_cast<size_t>(tail) & (capacity_ - 1);
  const size_t first = std::min(n, capacity_ - pos);
  out->append(ring_.get() + pos, first);
  out->append(ring_.get(), n - first);
  tail_.store(head, std::memory_order_release);
}

absl::StatusOr<AccessLog::Destination> AccessLog::OpenDestination(std::string_view path) {
  Destination d;
  d.path = std::string(path);
  if (path == "off") return d;
  if (path.empty() || path == "-") {
    d.fd = STDOUT_FILENO;
    return d;
  }
  const int fd = ::open(d.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    return absl::ErrnoToStatus(err, absl::StrCat("access_log.path: cannot open \"", d.path, "\""));
  }
  d.fd = fd;
  d.owns_fd = true;
  return d;
}

absl::StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(std::string_view path,
                                                           size_t workers,
                                                           AccessLogOptions options) {
  if (workers == 0) return absl::InvalidArgumentError("access log needs at least one worker");
  absl::StatusOr<Destination> destination = OpenDestination(path);
  if (!destination.ok()) return destination.status();
  return std::unique_ptr<AccessLog>(new AccessLog(*std::move(destination), workers, options));
}

AccessLog::AccessLog(Destination destination, size_t workers, AccessLogOptions options)
    : options_(options), destination_(std::move(destination)) {
  enabled_.store(destination_.fd >= 0, std::memory_order_relaxed);
  writers_.reserve(workers);
  for (size_t i = 0; i < workers; ++i) {
    writers_.push_back(std::unique_ptr<Writer>(new Writer(&enabled_, options_.ring_bytes)));
  }
  flusher_ = std::thread([this] { Run(); });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  flusher_.join();
  std::lock_guard<std::mutex> lock(mu_);
  CloseLocked();
}

void AccessLog::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait_for(lock, options_.flush_interval,
                   [this] { return stop_ || flush_requested_ > flush_done_; });
    const uint64_t requested = flush_requested_;
    DrainAndWriteLocked();
    flush_done_ = requested;
    flushed_.notify_all();
    if (stop_) return;
  }
}

void AccessLog::DrainAndWriteLocked() {
  batch_.clear();
  for (const auto& writer : writers_) writer->DrainTo(&batch_);
  if (batch_.empty() || destination_.fd < 0) return;
  const int err = WriteAll(destination_.fd, batch_);
  if (err == 0) {
    failing_ = false;
    return;
  }
  write_errors_.fetch_add(1, std::memory_order_relaxed);
  if (!failing_) {
    failing_ = true;
    Log(Level::kError, "access log write failed",
        {{"path", destination_.path}, {"error", std::strerror(err)}});
  }
}

void AccessLog::CloseLocked() {
  if (destination_.owns_fd) ::close(destination_.fd);
  destination_ = Destination{};
}

void AccessLog::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = ++flush_requested_;
  wake_.notify_all();
  flushed_.wait(lock, [this, target] { return flush_done_ >= target; });
}

absl::Status AccessLog::Reopen(std::string_view path) {
  absl::StatusOr<Destination> next = OpenDestination(path);
  if (!next.ok()) return next.status();
  std::lock_guard<std::mutex> lock(mu_);
  DrainAndWriteLocked();
  CloseLocked();
  destination_ = *std::move(next);
  failing_ = false;
  enabled_.store(destination_.fd >= 0, std::memory_order_relaxed);
  return absl::OkStatus();
}

uint64_t AccessLog::dropped() const {
  uint64_t total = 0;
  for (const auto& writer : writers_) total += writer->dropped();
  return total;
}

}  // namespace llmesh::log
