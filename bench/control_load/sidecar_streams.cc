#include "bench/control_load/sidecar_streams.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"

namespace llmesh::bench {
namespace {

namespace discovery = ::llmesh::discovery::v1;
namespace telemetry = ::llmesh::telemetry::v1;

constexpr char kRouteConfigurationType[] = "llmesh.discovery.v1.RouteConfiguration";
constexpr char kWeightAssignmentType[] = "llmesh.discovery.v1.WeightAssignment";

std::string Ended(const discovery::Node& node, const char* stream, const grpc::Status& status) {
  return absl::StrCat("sidecar ", node.id(), ": ", stream, " stream ended by the control plane: ",
                      static_cast<int>(status.error_code()), " ", status.error_message());
}

}  // namespace

// ---- DiscoverySession -----------------------------------------------------------------------

DiscoverySession::DiscoverySession(discovery::Node node, FleetEvents& events)
    : node_(std::move(node)), events_(events) {}

void DiscoverySession::Start(discovery::DiscoveryService::Stub& stub) {
  stub.async()->StreamResources(&context_, this);
  discovery::DiscoveryRequest routes;
  *routes.mutable_node() = node_;
  routes.set_type_url(kRouteConfigurationType);
  discovery::DiscoveryRequest weights;
  weights.set_type_url(kWeightAssignmentType);
  {
    std::lock_guard lock(mu_);
    EnqueueLocked(std::move(routes));
    EnqueueLocked(std::move(weights));
  }
  StartRead(&push_);
  StartCall();
}

void DiscoverySession::Close() {
  std::lock_guard lock(mu_);
  closing_ = true;
  if (!writing_) WriteNextLocked();
}

void DiscoverySession::OnReadDone(bool ok) {
  if (!ok) return;  // The stream is over; OnDone tells how.
  if (push_.resources_size() != 1) {
    events_.Fail(absl::StrCat("sidecar ", node_.id(), ": push of ", push_.type_url(), " with ",
                              push_.resources_size(), " resources (expected 1)"));
  }
  discovery::DiscoveryRequest ack;
  ack.set_type_url(push_.type_url());
  ack.set_version_info(push_.version_info());
  ack.set_response_nonce(push_.nonce());
  {
    std::lock_guard lock(mu_);
    if (!closing_) EnqueueLocked(std::move(ack));
  }
  StartRead(&push_);
}

void DiscoverySession::OnWriteDone(bool ok) {
  std::lock_guard lock(mu_);
  writing_ = false;
  if (!ok) return;  // The call broke; OnDone reports it.
  if (in_flight_.type_url() == kRouteConfigurationType && !in_flight_.response_nonce().empty()) {
    events_.RouteAcked(in_flight_.version_info(), SteadyClock::now());
  }
  WriteNextLocked();
}

void DiscoverySession::OnDone(const grpc::Status& status) {
  bool expected;
  {
    std::lock_guard lock(mu_);
    expected = closing_;
  }
  // The last use of this object: the harness may destroy it once FleetEvents counted the end.
  events_.StreamDone(expected, Ended(node_, "discovery", status));
}

void DiscoverySession::EnqueueLocked(discovery::DiscoveryRequest request) {
  queue_.push_back(std::move(request));
  if (!writing_) WriteNextLocked();
}

void DiscoverySession::WriteNextLocked() {
  if (queue_.empty()) {
    if (closing_ && !writes_done_) {
      writes_done_ = true;
      StartWritesDone();
    }
    return;
  }
  in_flight_ = std::move(queue_.front());
  queue_.pop_front();
  writing_ = true;
  StartWrite(&in_flight_);
}

// ---- TelemetrySession -----------------------------------------------------------------------

TelemetrySession::TelemetrySession(discovery::Node node, const ReportPool& pool, size_t variant,
                                   FleetEvents& events)
    : node_(std::move(node)), pool_(pool), events_(events), variant_(variant) {}

void TelemetrySession::Start(telemetry::TelemetryService::Stub& stub) {
  stub.async()->Report(&context_, this);
  {
    std::lock_guard lock(mu_);
    *report_.mutable_node() = node_;
    report_.set_sequence(sequence_ = 1);
    interval_end_ = std::chrono::system_clock::now();
    report_attempts_ = 0;
    writing_ = true;
    awaiting_ack_ = true;
    sent_at_ = SteadyClock::now();
    StartWrite(&report_);
  }
  StartRead(&ack_);
  StartCall();
}

void TelemetrySession::BeginReports(std::chrono::nanoseconds period,
                                    std::chrono::nanoseconds offset) {
  std::lock_guard lock(mu_);
  if (closing_) return;
  reporting_ = true;
  period_ = period;
  next_due_ = SteadyClock::now() + offset;
  if (offset.count() <= 0) {
    send_ready_ = true;
    MaybeSendLocked();
  } else {
    ScheduleLocked(next_due_);
  }
}

void TelemetrySession::StopReports() {
  std::lock_guard lock(mu_);
  reporting_ = false;
  send_ready_ = false;
  // The callback still runs (with ok = false) and releases its part of the busy count.
  if (alarm_pending_) alarm_.Cancel();
}

void TelemetrySession::Close() {
  std::lock_guard lock(mu_);
  closing_ = true;
  reporting_ = false;
  MaybeWritesDoneLocked();
}

void TelemetrySession::OnReadDone(bool ok) {
  if (!ok) return;  // The stream is over; OnDone tells how.
  const uint64_t acked = ack_.sequence();
  const SteadyTime now = SteadyClock::now();
  {
    std::lock_guard lock(mu_);
    if (!awaiting_ack_ || acked != sequence_) {
      events_.Fail(absl::StrCat("sidecar ", node_.id(), ": telemetry ack for sequence ", acked,
                                " while waiting for ", sequence_));
    }
    awaiting_ack_ = false;
    if (sequence_ == 1) {
      events_.HelloAcked();
    } else {
      events_.ReportAcked(report_attempts_, now - sent_at_);
      events_.TelemetryBusy(-1);
    }
    if (reporting_) {
      if (period_.count() == 0) {
        send_ready_ = true;
      } else {
        next_due_ += period_;
        if (next_due_ <= now) {
          send_ready_ = true;  // behind schedule: one report in flight is the limit
        } else {
          ScheduleLocked(next_due_);
        }
      }
      MaybeSendLocked();
    }
    MaybeWritesDoneLocked();
  }
  StartRead(&ack_);
}

void TelemetrySession::OnWriteDone(bool ok) {
  std::lock_guard lock(mu_);
  writing_ = false;
  if (!ok) return;  // The call broke; OnDone reports it.
  MaybeSendLocked();
  MaybeWritesDoneLocked();
}

void TelemetrySession::OnDone(const grpc::Status& status) {
  bool expected;
  {
    std::lock_guard lock(mu_);
    expected = closing_;
  }
  events_.StreamDone(expected, Ended(node_, "telemetry", status));
}

void TelemetrySession::MaybeSendLocked() {
  // The ack of a report can overtake its own OnWriteDone, hence both conditions.
  if (!send_ready_ || !reporting_ || writing_ || awaiting_ack_) return;
  send_ready_ = false;
  report_.clear_node();
  report_.set_sequence(++sequence_);
  const auto start = interval_end_;
  auto end = std::chrono::system_clock::now();
  if (end <= start) end = start + std::chrono::nanoseconds(1);  // intervals never repeat
  *report_.mutable_interval_start() = TimestampProto(absl::FromChrono(start));
  *report_.mutable_interval_end() = TimestampProto(absl::FromChrono(end));
  interval_end_ = end;
  pool_.Fill(variant_, report_);
  report_attempts_ = pool_.Attempts(variant_);
  ++variant_;
  writing_ = true;
  awaiting_ack_ = true;
  sent_at_ = SteadyClock::now();
  events_.TelemetryBusy(+1);
  StartWrite(&report_);
}

void TelemetrySession::ScheduleLocked(SteadyTime due) {
  alarm_pending_ = true;
  events_.TelemetryBusy(+1);
  events_.AlarmsPending(+1);
  const auto deadline = std::chrono::system_clock::now() +
                        std::chrono::duration_cast<std::chrono::system_clock::duration>(
                            due - SteadyClock::now());
  alarm_.Set(deadline, [this](bool ok) { OnAlarm(ok); });
}

void TelemetrySession::OnAlarm(bool ok) {
  {
    std::lock_guard lock(mu_);
    alarm_pending_ = false;
    if (ok && reporting_) {
      send_ready_ = true;
      MaybeSendLocked();
    }
  }
  events_.TelemetryBusy(-1);
  events_.AlarmsPending(-1);
}

void TelemetrySession::MaybeWritesDoneLocked() {
  if (!closing_ || writes_done_ || writing_) return;
  writes_done_ = true;
  StartWritesDone();
}

}  // namespace llmesh::bench
