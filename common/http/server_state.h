// Internal to llmesh_http: the state an HttpServer shares with its accept loops and
// connections. Held by shared_ptr so a coroutine that outlives the HttpServer object (e.g.
// one destroyed with its io_context) never touches freed memory.
//
// Threading: WorkerState fields are touched only on that worker's thread; ServerState fields
// are immutable after Start except the atomics and the stop mutex/condvar.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>

#include "common/http/server.h"

namespace llmesh::http::internal {

class Connection;

using ConnectionList =
    boost::intrusive::list<Connection, boost::intrusive::constant_time_size<false>>;

// One Drain call: fires its callback once, when every worker has stopped accepting and no
// connection remains, or at the deadline.
struct DrainWaiter {
  DrainWaiter(std::function<void()> callback, size_t workers)
      : on_drained(std::move(callback)), workers_pending(workers) {}
  void Fire() {
    if (!fired.exchange(true)) on_drained();
  }
  std::function<void()> on_drained;
  std::atomic<size_t> workers_pending;
  std::atomic<bool> fired{false};
};

struct WorkerState {
  asio::io_context* context = nullptr;
  Handler* handler = nullptr;
  std::optional<asio::ip::tcp::acceptor> acceptor;
  ConnectionList connections;
  bool draining = false;  // no new connections; keep-alive ends after the current request
  bool stopped = false;   // everything is being closed
  std::shared_ptr<DrainWaiter> drain_waiter;
};

struct ServerState {
  ServerOptions options;
  std::vector<std::unique_ptr<WorkerState>> workers;
  std::function<Handler&(size_t)> handler_for_worker;
  bool started = false;       // owner thread only
  bool stop_requested = false;  // owner thread only: Stop posts its tasks once
  asio::ip::tcp::endpoint bound;
  // Set at Start when options.tls is: every accepted connection does a TLS handshake.
  std::shared_ptr<asio::ssl::context> tls;

  std::atomic<size_t> active_connections{0};
  std::atomic<uint64_t> accepted_connections{0};
  // Accept loops plus connection coroutines still running; WaitUntilStopped waits for zero.
  std::atomic<size_t> live_coroutines{0};
  // Stop tasks posted to workers and not yet run. They hold the state, which must not outlive
  // the io_contexts its sockets and timers belong to, so WaitUntilStopped waits for them too.
  std::atomic<size_t> pending_stop_tasks{0};
  std::mutex stop_mu;
  std::condition_variable stop_cv;

  // Drain deadline; touched only on worker 0.
  std::optional<asio::steady_timer> drain_timer;

  // Called on a worker whenever a coroutine ends.
  void CoroutineEnded() {
    if (live_coroutines.fetch_sub(1, std::memory_order_acq_rel) == 1) NotifyStopWaiters();
  }
  // Called on a worker when a posted stop task has run.
  void StopTaskDone() {
    if (pending_stop_tasks.fetch_sub(1, std::memory_order_acq_rel) == 1) NotifyStopWaiters();
  }
  void NotifyStopWaiters() {
    std::lock_guard<std::mutex> lock(stop_mu);
    stop_cv.notify_all();
  }
  // Fires `waiter` if every worker has stopped accepting and no connection is left.
  void MaybeFinishDrain(const std::shared_ptr<DrainWaiter>& waiter) {
    if (waiter->workers_pending.load(std::memory_order_acquire) == 0 &&
        active_connections.load(std::memory_order_acquire) == 0) {
      waiter->Fire();
    }
  }
};

// Closes the acceptor and every connection of `worker` now. On the worker's thread.
void CloseWorker(WorkerState& worker);

}  // namespace llmesh::http::internal
