// Exchange over HTTP/1.1: one request/response on a pooled keep-alive connection.
//
// Made by UpstreamPool::Send for endpoints that speak HTTP/1.1. The connection goes back to the
// pool only when the response was read completely and both sides allow keep-alive; otherwise it
// is closed on destruction. Same threading, lifetime and status contract as Exchange
// (exchange.h); UNAVAILABLE from ReadHead means the pooled connection was dead and reconnecting
// failed.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "proxy/upstream/connection.h"
#include "proxy/upstream/exchange.h"

namespace llmesh::upstream {

class UpstreamPool;

class Http1Exchange final : public Exchange {
 public:
  // Returns the connection to its pool if the response was read completely, the response and the
  // request allow keep-alive and no stray bytes followed the response; otherwise closes it.
  ~Http1Exchange() override;

  // Reads the response head; 1xx interim responses are skipped. `deadline` is an absolute steady
  // time. If the connection came from the idle list and the peer turns out to have closed it
  // before sending any response byte, the request is sent once more on a fresh connection
  // (bounded by the deadline and by the connect/write budgets given to Send), invisibly to the
  // caller. Call once.
  boost::asio::awaitable<absl::Status> ReadHead(MonoTime deadline) override;

  unsigned status() const override { return parser_->status(); }
  // The response head, its fields made Beast fields on the first call. Precondition: ReadHead
  // succeeded. Valid for the Exchange's lifetime.
  const boost::beast::http::response_header<>& head() const override { return parser_->head(); }

  // The next piece of the body, chunked framing removed, as it arrives; an empty view means the
  // body is complete (and stays empty on further calls). The view points into the connection's
  // read buffer and is valid until the next call on this Exchange or its destruction.
  // Precondition: ReadHead succeeded.
  boost::asio::awaitable<absl::StatusOr<std::string_view>> ReadSome(MonoTime deadline) override;

  // True once the whole response has been read.
  bool complete() const override { return state_ == State::kComplete; }
  // True when the exchange runs on a connection that served an earlier exchange.
  bool reused_connection() const override { return connection_ != nullptr && connection_->reused(); }

 private:
  friend class UpstreamPool;

  std::optional<uint64_t> AnnouncedBodyBytes() const override;
  // A connection left mid-body is closed, not pooled, on destruction.
  void Abandon() override { state_ = State::kFailed; }

  enum class State : uint8_t { kHeadPending, kBody, kComplete, kFailed };

  // `request` (already written once) is kept until ReadHead returns, in case it must be sent
  // again; `may_resend` is true when `connection` came from the idle list.
  Http1Exchange(UpstreamPool& pool, std::unique_ptr<internal::Connection> connection, internal::Request request,
                bool may_resend, Duration connect_budget, Duration write_budget);

  void ResetParser();
  // Replaces a dead pooled connection with a fresh one and writes the request again.
  boost::asio::awaitable<absl::Status> Resend(MonoTime deadline);

  UpstreamPool& pool_;
  std::unique_ptr<internal::Connection> connection_;
  std::optional<internal::ResponseParser> parser_;
  std::optional<internal::Request> request_;  // empty once ReadHead has returned
  Duration connect_budget_;
  Duration write_budget_;
  State state_ = State::kHeadPending;
  bool may_resend_;
  bool head_request_;
  bool request_keep_alive_;
};

}  // namespace llmesh::upstream
