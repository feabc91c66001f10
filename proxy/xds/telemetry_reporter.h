// The sidecar's telemetry reporter: one gRPC TelemetryService/Report stream to llmesh-control
// (docs/control-plane.md, "Telemetry"), kept open for the life of the process.
//
// Every report interval it collects each worker's deltas by posting TelemetryAccumulator::
// TakeDelta onto that worker's io_context (a worker's accumulator is only ever touched by its
// own thread), merges them, and sends one TelemetryReport covering [previous collection, this
// collection). The interval is the one the latest TelemetryAck carried, 5 s until the first
// ack; the first report of every stream is empty and carries the node, so the interval is
// learned at once. Deltas are never resent: a report whose write fails or whose ack does not
// come before the stream breaks is dropped, and what workers recorded while no stream was up is
// dropped when the next stream starts (one lost interval costs less than double counting).
// Streams reconnect with the discovery client's jittered back-off (backoff.h) on a fresh
// channel with the same settings. Stop sends what the workers recorded since the last report
// (bounded wait for its ack) before it ends the stream, so a draining sidecar loses nothing.
//
// Sits beside the request path, never on it. Threading: the reporter runs on its own thread
// (the discovery client's thread blocks in its stream's reads, so it cannot keep a timer);
// Start and Stop are called from the thread that owns the reporter. The io_contexts of the
// sources must keep running until Stop returns and must outlive the reporter.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "common/clock.h"
#include "llmesh/discovery/v1/discovery.pb.h"
#include "llmesh/telemetry/v1/telemetry.pb.h"
#include "proxy/xds/telemetry_accumulator.h"

namespace grpc {
class ClientContext;
}  // namespace grpc

namespace llmesh::xds {

// Report interval until the control plane says otherwise (telemetry.proto).
inline constexpr std::chrono::milliseconds kDefaultReportInterval{5000};
// An ack asking for a shorter interval is held to this, so a broken server cannot make the
// sidecar spin.
inline constexpr std::chrono::milliseconds kMinReportInterval{10};

// One worker's accumulator and the io_context of the worker's thread.
struct TelemetrySource {
  boost::asio::io_context* context = nullptr;
  TelemetryAccumulator* accumulator = nullptr;
};

struct TelemetryReporterOptions {
  // gRPC address of llmesh-control, "host:port" (control_plane.address).
  std::string address;
  // This sidecar's identity, as the discovery client sends it (MakeNode).
  llmesh::discovery::v1::Node node;
  // How long a collection waits for the workers' deltas; a worker that has not answered by
  // then is left out of the report (its delta is lost with the interval).
  std::chrono::milliseconds collect_timeout{1000};
  // How long Stop waits for the last report to be sent and acked before cancelling the stream.
  std::chrono::milliseconds stop_timeout{2000};
};

class TelemetryReporter {
 public:
  // Every source's io_context and accumulator must outlive the reporter.
  TelemetryReporter(TelemetryReporterOptions options, std::vector<TelemetrySource> sources);
  ~TelemetryReporter();  // Stops.
  TelemetryReporter(const TelemetryReporter&) = delete;
  TelemetryReporter& operator=(const TelemetryReporter&) = delete;

  // Starts the reporter's thread: connect, report every interval, reconnect. Call once.
  void Start();
  // Sends the deltas recorded since the last report on the open stream (when there is one),
  // waits up to stop_timeout for its ack, ends the stream and joins the thread. Returns
  // promptly during a back-off wait or when the control plane is unreachable. Idempotent.
  void Stop();

  // What the reporter has done so far, for tests and logs. Thread-safe.
  struct Stats {
    uint64_t streams_started = 0;
    uint64_t streams_failed = 0;   // streams that ended other than by Stop
    uint64_t reports_sent = 0;     // written to a stream, the empty first ones included
    uint64_t reports_acked = 0;
    // Collections whose deltas were discarded: not written, or written but not acked, or
    // recorded while no stream was up.
    uint64_t deltas_dropped = 0;
    // The interval in use: kDefaultReportInterval until an ack set another.
    std::chrono::milliseconds report_interval = kDefaultReportInterval;
  };
  Stats stats() const;

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;

  void Run();
  // One stream from connect to its end. True when at least one report was acked.
  bool RunStream();
  // Takes every worker's delta and merges them (waits at most collect_timeout).
  TelemetryDelta Collect();
  // Waits until `due` or Stop(); false when stopping.
  bool WaitUntil(SteadyTime due);
  // The ack's interval, held to kMinReportInterval; the current one when the ack has none.
  std::chrono::milliseconds IntervalFrom(const llmesh::telemetry::v1::TelemetryAck& ack) const;

  const TelemetryReporterOptions options_;
  const std::vector<TelemetrySource> sources_;

  mutable std::mutex mu_;
  std::condition_variable cv_;               // Stop() and the end of Run()
  bool stopping_ = false;                    // guarded by mu_
  bool finished_ = false;                    // Run() returned; guarded by mu_
  grpc::ClientContext* context_ = nullptr;   // the live stream's context; guarded by mu_
  Stats stats_;                              // guarded by mu_
  std::thread thread_;
};

}  // namespace llmesh::xds
