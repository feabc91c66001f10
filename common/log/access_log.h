// Per-request access log: one JSON line per proxied request, written without blocking workers.
//
// The last step of a request's life (after the response is finished or failed) calls
// `access_log.writer(worker_index).Write(record)`. Each worker owns one Writer: it formats the
// line into a reused buffer and copies it into its own single-producer/single-consumer byte
// ring (no lock, no system call, no allocation once warm). One background flusher thread drains
// every ring every `flush_interval` (and on Flush() and destruction) and writes the batch to
// the destination with write(2): stdout for "-" (or ""), a file opened for append, or nothing
// for "off". If a ring is full the line is dropped and counted; a worker never waits.
//
// Line format (keys always present, in this order):
//   {"ts":"2026-11-24T06:30:00.123Z","request_id":"...","route":"...","provider":"...",
//    "model":"...","method":"POST","path":"/v1/chat/completions","status":200,"attempts":1,
//    "latency_ms":812.345,"ttft_ms":95.5,"prompt_tokens":12,"completion_tokens":40,
//    "cost_usd":0.00031,"stream":true,"error":null}
// `ts` is the wall-clock time of Write(); `ttft_ms` is null when negative (not a stream or no
// content); `error` is null when empty. Strings are JSON-escaped, invalid UTF-8 is replaced.
//
// Threading: Open, Flush, Reopen and the destructor belong on the main thread (they may wait
// for the flusher's write(2)). writer(i), dropped() and enabled() may be called from any
// thread; Writer i is used by one thread at a time (its worker).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/log/json_text.h"

namespace llmesh::log {

// What the proxy knows about one finished request. Views only: they must stay valid for the
// duration of Write(), not after. Never holds a prompt, a key or a user id.
struct AccessRecord {
  std::string_view request_id;
  std::string_view route;
  std::string_view provider;  // Provider of the last attempt; empty if none was attempted.
  std::string_view model;     // Upstream model of the last attempt.
  std::string_view method;
  std::string_view path;
  int status = 0;             // HTTP status sent to the client.
  uint32_t attempts = 0;
  double latency_ms = 0;      // From request received to response finished.
  double ttft_ms = -1;        // Time to first content byte sent downstream; < 0 = none.
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  double cost_usd = 0;
  bool stream = false;
  std::string_view error;     // Failure kind name of the final failure, or empty.
};

// Formats `record` as one access-log line (with trailing '\n') appended to `out`, using `ts`.
void AppendAccessLine(std::string* out, const AccessRecord& record,
                      std::chrono::system_clock::time_point ts, TimestampFormatter* formatter);

struct AccessLogOptions {
  // Bytes of ring per worker; rounded up to a power of two, at least 4096. At ~350 bytes per
  // line the default holds ~3000 lines, i.e. 60k requests/s per worker at a 50 ms interval.
  size_t ring_bytes = 1 << 20;
  std::chrono::milliseconds flush_interval{50};
};

class AccessLog {
 public:
  // One worker's producer end. Not copyable or movable; owned by its AccessLog.
  class Writer {
   public:
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    // Appends one line. Never blocks and never makes a system call. Does nothing while the
    // log is "off". Drops the line (and counts it) if the ring has no room for it.
    void Write(const AccessRecord& record);

    // Lines this writer dropped because its ring was full.
    uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

   private:
    friend class AccessLog;
    Writer(const std::atomic<bool>* enabled, size_t ring_bytes);

    // Copies bytes written so far into `out` and frees them in the ring (flusher thread only).
    void DrainTo(std::string* out);

    const std::atomic<bool>* enabled_;
    const size_t capacity_;  // Power of two.
    std::unique_ptr<char[]> ring_;
    std::string scratch_;    // Producer-only buffer the line is formatted into.
    TimestampFormatter timestamps_;
    std::atomic<uint64_t> dropped_{0};
    // Monotonic byte positions; the producer advances head_, the flusher advances tail_. On
    // separate cache lines so the two threads do not contend.
    alignas(64) std::atomic<uint64_t> head_{0};
    alignas(64) std::atomic<uint64_t> tail_{0};
  };

  // Opens `path` ("-" or "" = stdout, "off" = discard, else a file created if missing and
  // opened for append) and starts the flusher thread. `workers` >= 1 writers are created.
  // Errors: InvalidArgument (workers == 0), and the errno of open(2) mapped to a status
  // (e.g. NotFound, PermissionDenied) naming the path.
  static absl::StatusOr<std::unique_ptr<AccessLog>> Open(std::string_view path, size_t workers,
                                                         AccessLogOptions options = {});

  // Drains every ring, writes the rest, stops the flusher and closes the file. Precondition:
  // no Writer is in use any more (workers have stopped).
  ~AccessLog();

  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // The writer of worker `worker`. Precondition: worker < workers(). Stable for the lifetime
  // of this AccessLog.
  Writer& writer(size_t worker) { return *writers_[worker]; }
  size_t workers() const { return writers_.size(); }

  // Blocks until every line written before the call (by writes that happen-before it) has
  // been handed to the destination. Main thread or tests.
  void Flush();

  // Switches the destination (config reload, or log rotation with the same path): lines
  // already written go to the old destination, later ones to the new. On error the old
  // destination stays in place.
  absl::Status Reopen(std::string_view path);

  // Whether lines are being recorded (false for "off").
  bool enabled() const { return enabled_.load(std::memory_order_relaxed); }

  // Lines dropped by all writers because a ring was full.
  uint64_t dropped() const;

  // Batches that failed to write (the lines in them are lost); the first failure of a streak
  // is also reported on the operational log.
  uint64_t write_errors() const { return write_errors_.load(std::memory_order_relaxed); }

 private:
  struct Destination {
    int fd = -1;             // -1 = off.
    bool owns_fd = false;
    std::string path;
  };
  static absl::StatusOr<Destination> OpenDestination(std::string_view path);

  AccessLog(Destination destination, size_t workers, AccessLogOptions options);
  void Run();
  void DrainAndWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CloseLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const AccessLogOptions options_;
  std::atomic<bool> enabled_{false};
  std::vector<std::unique_ptr<Writer>> writers_;
  std::atomic<uint64_t> write_errors_{0};

  // std::mutex rather than absl::Mutex: ThreadSanitizer understands it, and only the flusher
  // and the main thread ever take it.
  std::mutex mu_;
  std::condition_variable wake_;     // Flusher waits: stop or flush requested.
  std::condition_variable flushed_;  // Flush() waits: flush_done_ advanced.
  Destination destination_ ABSL_GUARDED_BY(mu_);
  std::string batch_ ABSL_GUARDED_BY(mu_);  // Reused buffer for one drain.
  bool failing_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t flush_requested_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t flush_done_ ABSL_GUARDED_BY(mu_) = 0;

  std::thread flusher_;  // Last member: started after everything above is constructed.
};

}  // namespace llmesh::log
