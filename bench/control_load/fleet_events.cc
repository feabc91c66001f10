#include "bench/control_load/fleet_events.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace llmesh::bench {

void FleetEvents::RouteAcked(std::string_view version, SteadyTime at) {
  std::lock_guard lock(mu_);
  std::vector<SteadyTime>& acks = route_acks_[std::string(version)];
  acks.push_back(at);
  // Only the ACK that completes a version can end a wait.
  if (acks.size() == sidecars_) changed_.notify_all();
}

void FleetEvents::HelloAcked() {
  std::lock_guard lock(mu_);
  if (++hellos_ == sidecars_) changed_.notify_all();
}

void FleetEvents::ReportAcked(uint64_t attempts, std::chrono::nanoseconds round_trip) {
  reports_acked_.fetch_add(1, std::memory_order_relaxed);
  attempts_acked_.fetch_add(attempts, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  round_trips_.Add(static_cast<double>(round_trip.count()) / 1e3);
}

void FleetEvents::TelemetryBusy(int delta) {
  std::lock_guard lock(mu_);
  busy_ += delta;
  if (busy_ == 0) changed_.notify_all();
}

void FleetEvents::AlarmsPending(int delta) {
  std::lock_guard lock(mu_);
  alarms_ += delta;
  if (alarms_ == 0) changed_.notify_all();
}

void FleetEvents::StreamDone(bool expected, std::string description) {
  std::lock_guard lock(mu_);
  ++done_;
  if (!expected && failure_.empty()) failure_ = std::move(description);
  changed_.notify_all();
}

void FleetEvents::Fail(std::string description) {
  std::lock_guard lock(mu_);
  if (failure_.empty()) failure_ = std::move(description);
  changed_.notify_all();
}

absl::Status FleetEvents::FailureLocked() const {
  return failure_.empty() ? absl::OkStatus() : absl::AbortedError(failure_);
}

absl::Status FleetEvents::failure() const {
  std::lock_guard lock(mu_);
  return FailureLocked();
}

absl::Status FleetEvents::WatchUntil(SteadyTime until) {
  std::unique_lock lock(mu_);
  changed_.wait_until(lock, until, [&] { return !failure_.empty(); });
  return FailureLocked();
}

absl::StatusOr<std::vector<SteadyTime>> FleetEvents::WaitForRouteAcks(const std::string& version,
                                                                      SteadyTime deadline) {
  std::unique_lock lock(mu_);
  const auto acked = [&] {
    auto it = route_acks_.find(version);
    return it == route_acks_.end() ? size_t{0} : it->second.size();
  };
  changed_.wait_until(lock, deadline, [&] { return acked() >= sidecars_ || !failure_.empty(); });
  if (!failure_.empty()) return FailureLocked();
  if (acked() < sidecars_) {
    return absl::DeadlineExceededError(absl::StrCat("only ", acked(), " of ", sidecars_,
                                                    " sidecars ACKed route configuration ",
                                                    version, " before the deadline"));
  }
  return route_acks_[version];
}

absl::Status FleetEvents::WaitForHellos(SteadyTime deadline) {
  std::unique_lock lock(mu_);
  changed_.wait_until(lock, deadline, [&] { return hellos_ >= sidecars_ || !failure_.empty(); });
  if (!failure_.empty()) return FailureLocked();
  if (hellos_ < sidecars_) {
    return absl::DeadlineExceededError(absl::StrCat("only ", hellos_, " of ", sidecars_,
                                                    " telemetry streams got their first ack"));
  }
  return absl::OkStatus();
}

absl::Status FleetEvents::WaitForTelemetryIdle(SteadyTime deadline) {
  std::unique_lock lock(mu_);
  changed_.wait_until(lock, deadline, [&] { return busy_ == 0 || !failure_.empty(); });
  if (!failure_.empty()) return FailureLocked();
  if (busy_ != 0) {
    return absl::DeadlineExceededError(
        absl::StrCat(busy_, " telemetry reports still unacked after the load phase"));
  }
  return absl::OkStatus();
}

absl::Status FleetEvents::WaitForStreamsDone(size_t streams, SteadyTime deadline) {
  std::unique_lock lock(mu_);
  changed_.wait_until(lock, deadline, [&] { return done_ >= streams; });
  if (done_ < streams) {
    return absl::DeadlineExceededError(
        absl::StrCat("only ", done_, " of ", streams, " streams ended after closing"));
  }
  return absl::OkStatus();
}

absl::Status FleetEvents::WaitForNoAlarms(SteadyTime deadline) {
  std::unique_lock lock(mu_);
  changed_.wait_until(lock, deadline, [&] { return alarms_ == 0; });
  if (alarms_ != 0) {
    return absl::DeadlineExceededError(absl::StrCat(alarms_, " pacing alarms still pending"));
  }
  return absl::OkStatus();
}

double FleetEvents::RoundTripMicros(double q) const {
  std::lock_guard lock(mu_);
  return round_trips_.Quantile(q);
}

}  // namespace llmesh::bench
