// Test fixture that drives one io_context on the test thread: coroutines under test are spawned
// on it and the test waits for their results with a bounded run loop, so plain gtest assertions
// work between steps.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <gtest/gtest.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "absl/status/status.h"
#include "common/clock.h"
#include "proxy/upstream/endpoint.h"

namespace llmesh::upstream::testing {

class IoTest : public ::testing::Test {
 protected:
  // The result of a spawned coroutine, once it has finished.
  template <class T>
  struct Pending {
    std::optional<T> result;
    std::exception_ptr error;
  };

  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  static MonoTime In(Duration d) { return std::chrono::steady_clock::now() + d; }
  static MonoTime Soon() { return In(std::chrono::seconds(5)); }

  static Endpoint Loopback(uint16_t port) { return Endpoint{"127.0.0.1", port, false, ""}; }
  static Request Post(std::string target, std::string body) {
    Request request{boost::beast::http::verb::post, target, 11};
    request.body() = std::move(body);
    return request;
  }

  // Runs the io_context until `done` holds, the context runs out of work, or 10 s pass.
  void RunUntil(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      if (io_.stopped()) io_.restart();
      if (io_.run_one_until(deadline) == 0) break;
    }
  }

  // Starts `op` on the io_context; `slot` lets the test cancel it.
  template <class T>
  std::shared_ptr<Pending<T>> Spawn(boost::asio::awaitable<T> op, boost::asio::cancellation_slot slot = {}) {
    auto pending = std::make_shared<Pending<T>>();
    boost::asio::co_spawn(io_, std::move(op),
                          boost::asio::bind_cancellation_slot(slot, [pending](std::exception_ptr error, T value) {
                            pending->error = error;
                            pending->result.emplace(std::move(value));
                          }));
    return pending;
  }

  // Waits for a spawned Status/StatusOr-returning coroutine; a hang or an exception fails the
  // test and comes back as an error status.
  template <class T>
  T Wait(const std::shared_ptr<Pending<T>>& pending) {
    RunUntil([&] { return pending->result.has_value(); });
    if (!pending->result.has_value()) {
      ADD_FAILURE() << "operation did not finish";
      return T(absl::UnknownError("test: operation did not finish"));
    }
    if (pending->error) {
      ADD_FAILURE() << "operation threw";
      return T(absl::UnknownError("test: operation threw"));
    }
    return *std::move(pending->result);
  }

  template <class T>
  T Await(boost::asio::awaitable<T> op) {
    return Wait(Spawn(std::move(op)));
  }

  boost::asio::io_context io_{1};
};

}  // namespace llmesh::upstream::testing
