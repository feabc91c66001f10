#include "proxy/xds/telemetry_reporter.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <memory>
#include <utility>

#include <boost/asio/post.hpp>

#include "absl/random/random.h"
#include "common/log/log.h"
#include "common/proto_time.h"
#include "llmesh/telemetry/v1/telemetry.grpc.pb.h"
#include "proxy/xds/backoff.h"

namespace llmesh::xds {
namespace {

namespace tv1 = llmesh::telemetry::v1;
using std::chrono::milliseconds;
using WallTime = std::chrono::system_clock::time_point;

// The discovery client's channel settings: a fresh channel per stream with its own
// subchannels, so gRPC's own reconnect back-off (up to 120 s) never delays a stream our
// back-off already allows.
std::unique_ptr<tv1::TelemetryService::Stub> NewStub(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return tv1::TelemetryService::NewStub(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
}

// The deltas of one collection as they come back from the workers.
struct Round {
  std::mutex mu;
  std::condition_variable cv;
  size_t pending = 0;                 // guarded by mu
  std::vector<TelemetryDelta> deltas;  // guarded by mu
};

}  // namespace

TelemetryReporter::TelemetryReporter(TelemetryReporterOptions options, std::vector<TelemetrySource> sources)
    : options_(std::move(options)), sources_(std::move(sources)) {}

TelemetryReporter::~TelemetryReporter() { Stop(); }

void TelemetryReporter::Start() {
  thread_ = std::thread([this] { Run(); });
}

void TelemetryReporter::Stop() {
  if (!thread_.joinable()) return;
  {
    std::unique_lock<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
    // The last report gets stop_timeout to be sent and acked; after that the stream is cut so
    // an unresponsive control plane cannot hold up the sidecar's exit.
    if (!cv_.wait_for(lock, options_.stop_timeout, [this] { return finished_; }) && context_ != nullptr) {
      context_->TryCancel();
    }
  }
  thread_.join();
}

TelemetryReporter::Stats TelemetryReporter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void TelemetryReporter::Run() {
  absl::BitGen rng;
  uint32_t attempt = 0;
  for (;;) {
    // A stream that had a report acked reached a working control plane: start over from 0.5 s.
    attempt = RunStream() ? 0 : attempt;
    const milliseconds delay = BackoffDelay(attempt, rng);
    if (attempt < 64) ++attempt;
    if (!WaitUntil(std::chrono::steady_clock::now() + delay)) break;
  }
  std::lock_guard<std::mutex> lock(mu_);
  finished_ = true;
  cv_.notify_all();
}

bool TelemetryReporter::WaitUntil(SteadyTime due) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, due, [this] { return stopping_; });
  return !stopping_;
}

milliseconds TelemetryReporter::IntervalFrom(const tv1::TelemetryAck& ack) const {
  const auto given = std::chrono::seconds(ack.report_interval().seconds()) +
                     std::chrono::nanoseconds(ack.report_interval().nanos());
  if (!ack.has_report_interval() || given <= std::chrono::nanoseconds::zero()) return stats().report_interval;
  return std::max(kMinReportInterval, std::chrono::ceil<milliseconds>(given));
}

TelemetryDelta TelemetryReporter::Collect() {
  auto round = std::make_shared<Round>();
  round->pending = sources_.size();
  for (const TelemetrySource& source : sources_) {
    boost::asio::post(*source.context, [round, accumulator = source.accumulator] {
      TelemetryDelta delta = accumulator->TakeDelta();
      std::lock_guard<std::mutex> lock(round->mu);
      round->deltas.push_back(std::move(delta));
      --round->pending;
      round->cv.notify_all();
    });
  }
  std::vector<TelemetryDelta> deltas;
  {
    std::unique_lock<std::mutex> lock(round->mu);
    if (!round->cv.wait_for(lock, options_.collect_timeout, [&] { return round->pending == 0; })) {
      Log(log::Level::kWarn, "telemetry: workers did not hand over their deltas in time",
          {{"missing", static_cast<uint64_t>(round->pending)}});
    }
    // A worker answering after this point writes into the round only this function's closures
    // still hold; its delta is lost with the interval.
    deltas = std::move(round->deltas);
  }
  TelemetryDelta merged;
  for (const TelemetryDelta& delta : deltas) merged.Merge(delta);
  return merged;
}

bool TelemetryReporter::RunStream() {
  std::unique_ptr<tv1::TelemetryService::Stub> stub = NewStub(options_.address);
  grpc::ClientContext context;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    context_ = &context;
    ++stats_.streams_started;
  }
  std::unique_ptr<grpc::ClientReaderWriter<tv1::TelemetryReport, tv1::TelemetryAck>> stream =
      stub->Report(&context);

  // What the workers recorded while no stream was up belongs to no interval of this stream.
  if (!Collect().empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.deltas_dropped;
  }
  SteadyTime last_steady = std::chrono::steady_clock::now();
  WallTime last_wall = std::chrono::system_clock::now();
  uint64_t sequence = 0;
  bool acked = false;
  bool open = true;

  // Sends one report of `delta` covering [last_wall, end) and waits for its ack.
  auto send = [&](const TelemetryDelta& delta, WallTime end) {
    tv1::TelemetryReport report;
    if (sequence == 0) *report.mutable_node() = options_.node;
    report.set_sequence(++sequence);
    *report.mutable_interval_start() = TimestampProto(absl::FromChrono(last_wall));
    *report.mutable_interval_end() = TimestampProto(absl::FromChrono(end));
    delta.AppendTo(report);
    const bool written = stream->Write(report);
    tv1::TelemetryAck ack;
    const bool answered = written && stream->Read(&ack);
    const bool in_order = answered && ack.sequence() == sequence;
    const milliseconds interval = in_order ? IntervalFrom(ack) : milliseconds::zero();
    std::lock_guard<std::mutex> lock(mu_);
    if (written) ++stats_.reports_sent;
    if (!in_order) {
      if (!delta.empty()) ++stats_.deltas_dropped;
      if (answered) {
        Log(log::Level::kWarn, "telemetry ack out of order; reconnecting",
            {{"sequence", sequence}, {"acked", ack.sequence()}});
        context.TryCancel();
      }
      return false;
    }
    ++stats_.reports_acked;
    stats_.report_interval = interval;
    acked = true;
    return true;
  };

  open = send(TelemetryDelta(), last_wall);
  while (open) {
    const bool stopping = !WaitUntil(last_steady + stats().report_interval);
    const SteadyTime now_steady = std::chrono::steady_clock::now();
    const WallTime now_wall = std::chrono::system_clock::now();
    TelemetryDelta delta = Collect();
    open = send(delta, now_wall);
    last_steady = now_steady;
    last_wall = now_wall;
    if (stopping) break;
  }

  if (open) stream->WritesDone();
  // Finish wants every read done; the server ends the call once our side is closed, and a
  // broken call ends its reads at once.
  tv1::TelemetryAck extra;
  while (stream->Read(&extra)) {
  }
  const grpc::Status status = stream->Finish();
  {
    std::lock_guard<std::mutex> lock(mu_);
    context_ = nullptr;
    if (stopping_) return acked;
    ++stats_.streams_failed;
  }
  Log(log::Level::kWarn, "telemetry stream ended; reconnecting",
      {{"address", options_.address}, {"code", static_cast<int64_t>(status.error_code())},
       {"error", status.error_message()}});
  return acked;
}

}  // namespace llmesh::xds
