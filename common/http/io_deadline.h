// A deadline for the I/O of one connection, cheap to move on every operation.
//
// Used by both ends of the request path: the server's client connections and the proxy's
// upstream connections. Setting or clearing the deadline is a plain store; the timer is only
// touched when the deadline moves earlier than the wait already armed, and a wait that fires
// early (the deadline moved later meanwhile) re-arms itself. So a keep-alive connection doing
// thousands of exchanges costs a handful of timer operations instead of two per read or write.
//
// Threading: one executor (the connection's worker); not thread-safe. `on_expiry` runs on that
// executor, never after the IoDeadline is destroyed.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>

namespace llmesh::http {

class IoDeadline {
 public:
  using Clock = std::chrono::steady_clock;

  IoDeadline(const boost::asio::any_io_executor& executor, std::function<void()> on_expiry)
      : state_(std::make_shared<State>(executor, std::move(on_expiry))) {}
  ~IoDeadline() {
    state_->stopped = true;
    state_->timer.cancel();
  }
  IoDeadline(const IoDeadline&) = delete;
  IoDeadline& operator=(const IoDeadline&) = delete;

  // `on_expiry` runs once `deadline` has passed, unless the deadline is moved or cleared first.
  void Set(Clock::time_point deadline) {
    State& state = *state_;
    state.deadline = deadline;
    if (state.armed && deadline >= state.timer.expiry()) return;
    // Moving an armed timer earlier cancels its wait; that handler (or one already queued) is
    // stale and leaves the re-arming to this call.
    state.timer.expires_at(deadline);
    state.armed = true;
    Arm(state_);
  }
  void Clear() { state_->deadline = Clock::time_point::max(); }
  Clock::time_point deadline() const { return state_->deadline; }

 private:
  struct State {
    State(const boost::asio::any_io_executor& executor, std::function<void()> callback)
        : timer(executor), on_expiry(std::move(callback)) {}
    boost::asio::steady_timer timer;
    std::function<void()> on_expiry;
    Clock::time_point deadline = Clock::time_point::max();
    // Identifies the current wait; handlers of earlier ones do nothing.
    unsigned generation = 0;
    bool armed = false;
    bool stopped = false;
  };

  // The wait holds the state, so a handler queued just before destruction still finds it.
  static void Arm(const std::shared_ptr<State>& state) {
    const unsigned generation = ++state->generation;
    state->timer.async_wait([state, generation](const boost::system::error_code& ec) {
      if (state->stopped || generation != state->generation || ec == boost::asio::error::operation_aborted) {
        return;
      }
      state->armed = false;
      if (state->deadline <= Clock::now()) {
        state->deadline = Clock::time_point::max();
        state->on_expiry();
        if (state->stopped) return;
      }
      if (state->deadline == Clock::time_point::max()) return;
      state->timer.expires_at(state->deadline);
      state->armed = true;
      Arm(state);
    });
  }

  std::shared_ptr<State> state_;
};

}  // namespace llmesh::http
