#include "controlplane/telemetry/telemetry_server.h"

#include <chrono>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/proto_time.h"

namespace llmesh::control {

namespace telemetry = ::llmesh::telemetry::v1;

class TelemetryServer::Stream final
    : public grpc::ServerBidiReactor<telemetry::TelemetryReport, telemetry::TelemetryAck> {
 public:
  Stream(TelemetryServer& server, std::string peer, bool refuse)
      : server_(server), peer_(std::move(peer)) {
    *ack_.mutable_report_interval() = DurationProto(absl::FromChrono(server_.report_interval_));
    absl::MutexLock lock(&mu_);
    if (refuse) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "control plane shutting down"));
      return;
    }
    StartRead(&report_);
  }

  void OnReadDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    if (!ok) {
      // The sidecar closed its side or the call broke; either way the stream is over.
      FinishLocked(grpc::Status::OK);
      return;
    }
    if (finish_requested_) return;
    if (node_id_.empty()) {
      if (report_.node().id().empty()) {
        FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                  "node.id: required on the first report of a stream"));
        return;
      }
      node_id_ = report_.node().id();
    }
    Absorb();
    ack_.set_sequence(report_.sequence());
    writing_ = true;
    StartWrite(&ack_);
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
    } else if (finish_requested_) {
      Finish(final_status_);
    } else {
      StartRead(&report_);
    }
  }

  void OnDone() override {
    server_.Remove(this);
    delete this;
  }

  void End(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    FinishLocked(std::move(status));
  }

 private:
  // Sequences start at 1 and grow by one per report; anything not above the last one seen on
  // this stream is a replay or a broken sender, and counting it could count a delta twice.
  void Absorb() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::Status status;
    if (report_.sequence() <= last_sequence_) {
      server_.aggregator_.CountRefused();
      status = absl::InvalidArgumentError(absl::StrCat(
          "sequence: ", report_.sequence(), " is not above the previous ", last_sequence_));
    } else {
      last_sequence_ = report_.sequence();
      status = server_.aggregator_.Ingest(node_id_, report_);
    }
    if (!status.ok()) {
      log::Log(log::Level::kWarn, "telemetry report refused",
               {{"node", node_id_}, {"peer", peer_}, {"sequence", report_.sequence()},
                {"reason", status.ToString()}});
    }
  }

  // gRPC wants no Finish while a write is in flight; OnWriteDone finishes then.
  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finish_requested_) return;
    finish_requested_ = true;
    if (writing_) {
      final_status_ = std::move(status);
    } else {
      Finish(std::move(status));
    }
  }

  TelemetryServer& server_;
  const std::string peer_;

  absl::Mutex mu_;
  std::string node_id_ ABSL_GUARDED_BY(mu_);
  uint64_t last_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  telemetry::TelemetryReport report_;
  telemetry::TelemetryAck ack_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_requested_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
};

TelemetryServer::TelemetryServer(TelemetryAggregator& aggregator, Duration report_interval)
    : aggregator_(aggregator),
      report_interval_(report_interval > Duration::zero() ? report_interval
                                                          : kDefaultReportInterval) {}

TelemetryServer::~TelemetryServer() = default;

grpc::ServerBidiReactor<telemetry::TelemetryReport, telemetry::TelemetryAck>*
TelemetryServer::Report(grpc::CallbackServerContext* context) {
  absl::MutexLock lock(&mu_);
  auto* stream = new Stream(*this, context->peer(), shutting_down_);
  streams_.insert(stream);
  return stream;
}

void TelemetryServer::Shutdown() {
  absl::MutexLock lock(&mu_);
  shutting_down_ = true;
  for (Stream* stream : streams_) {
    stream->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "control plane shutting down"));
  }
}

std::size_t TelemetryServer::open_streams() const {
  absl::MutexLock lock(&mu_);
  return streams_.size();
}

void TelemetryServer::Remove(Stream* stream) {
  absl::MutexLock lock(&mu_);
  streams_.erase(stream);
}

}  // namespace llmesh::control
