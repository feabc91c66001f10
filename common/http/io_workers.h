// A pool of worker threads, each running its own io_context (Envoy's worker model). Listeners
// and upstream pools pin their sockets to one context, so per-connection state is only ever
// touched by one thread.
//
// Threading: construct, Start, Stop and Join from the owning thread (Stop may also be called
// from any thread, including a worker). context(i) may be used from any thread to post work.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace llmesh::http {

class IoWorkers {
 public:
  // Creates `count` (at least 1) io_contexts; no thread runs yet.
  explicit IoWorkers(size_t count);
  // Stops and joins the threads, then destroys the contexts (which destroys any handler or
  // coroutine still queued on them).
  ~IoWorkers();

  IoWorkers(const IoWorkers&) = delete;
  IoWorkers& operator=(const IoWorkers&) = delete;

  size_t size() const { return contexts_.size(); }
  boost::asio::io_context& context(size_t i) { return *contexts_[i]; }

  // Starts one thread per context; each runs its context until Stop. Once.
  void Start();
  // Makes every context return from run() as soon as possible; queued work is abandoned.
  // Stop servers first (HttpServer::Stop + WaitUntilStopped) so nothing is left half-done.
  void Stop();
  // Waits for the threads to exit. Not from a worker thread.
  void Join();

 private:
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<std::optional<WorkGuard>> guards_;
  std::vector<std::thread> threads_;
};

}  // namespace llmesh::http
