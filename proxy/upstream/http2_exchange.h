// Exchange over HTTP/2: one request stream of a multiplexed upstream connection.
//
// Made by UpstreamPool::Send (through Http2Connection::StartStream) for endpoints that speak h2.
// Same threading, lifetime and status contract as Exchange (exchange.h). Reads wait on the
// stream's state, which the connection's session updates as frames arrive; every wait is bounded
// by the caller's deadline. Destroying the exchange before the response is complete resets the
// stream (RST_STREAM CANCEL); the connection and its other streams carry on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "proxy/upstream/exchange.h"

namespace llmesh::upstream {
namespace internal {
class Http2Connection;
struct Http2Stream;
}  // namespace internal

class Http2Exchange final : public Exchange {
 public:
  // Made by Http2Connection::StartStream for the stream it has just submitted.
  Http2Exchange(internal::Http2Connection& connection, internal::Http2Stream& stream);
  ~Http2Exchange() override;

  boost::asio::awaitable<absl::Status> ReadHead(MonoTime deadline) override;
  unsigned status() const override;
  const boost::beast::http::response_header<>& head() const override;
  // Each piece is everything that arrived since the previous call (one DATA frame or several).
  boost::asio::awaitable<absl::StatusOr<std::string_view>> ReadSome(MonoTime deadline) override;
  bool complete() const override { return state_ == State::kComplete; }
  // True unless this is the first stream of its connection.
  bool reused_connection() const override;

 private:
  enum class State : uint8_t { kHeadPending, kBody, kComplete, kFailed };

  std::optional<uint64_t> AnnouncedBodyBytes() const override;
  void Abandon() override { state_ = State::kFailed; }
  void AppendPiece(std::string_view piece, std::string& body) override;

  // Waits until the stream's state changes or `deadline` passes. OK when woken (state to be
  // re-examined); DEADLINE_EXCEEDED or CANCELLED otherwise.
  boost::asio::awaitable<absl::Status> Wait(MonoTime deadline, std::string_view activity);
  // Marks the exchange failed and returns `status`.
  absl::Status Failed(absl::Status status);

  internal::Http2Connection& connection_;
  internal::Http2Stream& stream_;
  State state_ = State::kHeadPending;
};

}  // namespace llmesh::upstream
