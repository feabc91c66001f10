// Conversions between absl time values and the protobuf well-known Timestamp and Duration, used
// by every message that carries a time (admin, discovery, telemetry). Pure; safe from any thread.
#pragma once

#include <cstdint>

#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace llmesh {

// Seconds since the epoch rounded towards the past, so nanos stay in [0, 1e9) before 1970 too.
inline google::protobuf::Timestamp TimestampProto(absl::Time time) {
  google::protobuf::Timestamp proto;
  const int64_t seconds = absl::ToUnixSeconds(time);
  proto.set_seconds(seconds);
  proto.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
  return proto;
}

// Seconds and nanos of the same sign, as the Duration message requires.
inline google::protobuf::Duration DurationProto(absl::Duration duration) {
  google::protobuf::Duration proto;
  const int64_t seconds = absl::IDivDuration(duration, absl::Seconds(1), &duration);
  proto.set_seconds(seconds);
  proto.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(duration)));
  return proto;
}

inline absl::Duration FromDurationProto(const google::protobuf::Duration& duration) {
  return absl::Seconds(duration.seconds()) + absl::Nanoseconds(duration.nanos());
}

}  // namespace llmesh
