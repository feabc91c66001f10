#include "common/http/server.h"

#include <sys/socket.h>

#include <exception>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "absl/strings/str_cat.h"
#include "common/http/connection.h"
#include "common/http/host_port.h"
#include "common/log/log.h"
#include "common/http/server_state.h"
#include "common/status_macros.h"

namespace llmesh::http {
namespace {

using internal::Connection;
using internal::ServerState;
using internal::WorkerState;
using tcp = asio::ip::tcp;
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// Pause after an accept error other than cancellation (e.g. out of descriptors) so the loop
// does not spin while the condition lasts.
constexpr std::chrono::milliseconds kAcceptErrorBackoff{50};

asio::awaitable<void> AcceptLoop(std::shared_ptr<ServerState> state, WorkerState* worker) {
  struct EndGuard {
    ServerState* state;
    ~EndGuard() { state->CoroutineEnded(); }
  } end_guard{state.get()};
  while (worker->acceptor && worker->acceptor->is_open()) {
    auto [ec, socket] =
        co_await worker->acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !worker->acceptor->is_open()) break;
      asio::steady_timer backoff(*worker->context, kAcceptErrorBackoff);
      co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (worker->draining) {
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    state->active_connections.fetch_add(1, std::memory_order_acq_rel);
    state->accepted_connections.fetch_add(1, std::memory_order_relaxed);
    state->live_coroutines.fetch_add(1, std::memory_order_acq_rel);
    auto connection =
        std::make_shared<Connection>(state, *worker, std::move(socket), state->tls.get());
    worker->connections.push_back(*connection);
    Connection::Spawn(std::move(connection));
  }
}

void CloseAcceptor(WorkerState& worker) {
  if (worker.acceptor && worker.acceptor->is_open()) {
    boost::system::error_code ignored;
    worker.acceptor->close(ignored);
  }
}

}  // namespace

namespace internal {

void CloseWorker(WorkerState& worker) {
  worker.stopped = true;
  worker.draining = true;
  CloseAcceptor(worker);
  // ForceClose may finish a connection (and unlink it) before returning, so hold them first.
  std::vector<std::shared_ptr<Connection>> connections;
  for (Connection& connection : worker.connections) {
    connections.push_back(connection.shared_from_this());
  }
  for (const auto& connection : connections) connection->ForceClose();
}

}  // namespace internal

HttpServer::HttpServer(IoWorkers& workers, ServerOptions options,
                       std::function<Handler&(size_t worker)> handler_for_worker)
    : state_(std::make_shared<ServerState>()) {
  state_->options = std::move(options);
  state_->handler_for_worker = std::move(handler_for_worker);
  for (size_t i = 0; i < workers.size(); ++i) {
    auto worker = std::make_unique<WorkerState>();
    worker->context = &workers.context(i);
    state_->workers.push_back(std::move(worker));
  }
}

HttpServer::HttpServer(asio::io_context& context, ServerOptions options, Handler& handler)
    : state_(std::make_shared<ServerState>()) {
  state_->options = std::move(options);
  state_->handler_for_worker = [&handler](size_t) -> Handler& { return handler; };
  auto worker = std::make_unique<WorkerState>();
  worker->context = &context;
  state_->workers.push_back(std::move(worker));
}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Start() {
  ServerState& state = *state_;
  if (state.started) return absl::FailedPreconditionError("HttpServer::Start called twice");
  LLMESH_ASSIGN_OR_RETURN(tcp::endpoint endpoint, ParseHostPort(state.options.listen));
  if (state.options.tls) {
    LLMESH_ASSIGN_OR_RETURN(state.tls, MakeServerTlsContext(*state.options.tls));
  }

  for (size_t i = 0; i < state.workers.size(); ++i) {
    WorkerState& worker = *state.workers[i];
    worker.acceptor.emplace(*worker.context);
    boost::system::error_code ec;
    worker.acceptor->open(endpoint.protocol(), ec);
    if (!ec) worker.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) worker.acceptor->set_option(ReusePort(true), ec);
    if (!ec) worker.acceptor->bind(endpoint, ec);
    if (!ec) worker.acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      for (auto& each : state.workers) CloseAcceptor(*each);
      return absl::UnavailableError(
          absl::StrCat("listen on ", FormatHostPort(endpoint), ": ", ec.message()));
    }
    // With port 0 the first socket picks the port; the others join it.
    if (i == 0) endpoint = worker.acceptor->local_endpoint();
  }
  state.bound = endpoint;
  state.started = true;
  for (size_t i = 0; i < state.workers.size(); ++i) {
    state.workers[i]->handler = &state.handler_for_worker(i);
  }
  log::Log(log::Level::kInfo, "listening",
           {{"listener", state.options.name}, {"address", FormatHostPort(endpoint)}});

  for (auto& worker : state.workers) {
    state.live_coroutines.fetch_add(1, std::memory_order_acq_rel);
    asio::co_spawn(*worker->context, AcceptLoop(state_, worker.get()), [](std::exception_ptr) {});
  }
  return absl::OkStatus();
}

uint16_t HttpServer::port() const { return state_->bound.port(); }

std::string HttpServer::address() const { return FormatHostPort(state_->bound); }

void HttpServer::Drain(std::chrono::milliseconds deadline, std::function<void()> on_drained) {
  auto waiter =
      std::make_shared<internal::DrainWaiter>(std::move(on_drained), state_->workers.size());
  for (auto& worker_ptr : state_->workers) {
    WorkerState* worker = worker_ptr.get();
    asio::post(*worker->context, [state = state_, worker, waiter] {
      worker->draining = true;
      worker->drain_waiter = waiter;
      CloseAcceptor(*worker);
      for (Connection& connection : worker->connections) connection.WakeIfIdle();
      waiter->workers_pending.fetch_sub(1, std::memory_order_acq_rel);
      state->MaybeFinishDrain(waiter);
    });
  }
  WorkerState* first = state_->workers.front().get();
  asio::post(*first->context, [state = state_, first, waiter, deadline] {
    state->drain_timer.emplace(*first->context, deadline);
    // Weak: the timer lives in the state, so a strong reference would keep both alive.
    std::weak_ptr<ServerState> weak_state = state;
    state->drain_timer->async_wait([weak_state, waiter](const boost::system::error_code& ec) {
      std::shared_ptr<ServerState> state = weak_state.lock();
      if (ec || !state || waiter->fired.load(std::memory_order_acquire)) return;
      for (auto& worker : state->workers) {
        asio::post(*worker->context,
                   [state, worker = worker.get()] { internal::CloseWorker(*worker); });
      }
      waiter->Fire();
    });
  });
}

void HttpServer::Stop() {
  // Once: a second call (e.g. the destructor after an explicit Stop) would post tasks to loops
  // that may have stopped, leaving them to be destroyed after the state they hold.
  if (state_->stop_requested) return;
  state_->stop_requested = true;
  for (size_t i = 0; i < state_->workers.size(); ++i) {
    WorkerState* worker = state_->workers[i].get();
    state_->pending_stop_tasks.fetch_add(1, std::memory_order_acq_rel);
    asio::post(*worker->context, [state = state_, worker, first = i == 0] {
      internal::CloseWorker(*worker);
      if (first && state->drain_timer) state->drain_timer->cancel();
      state->StopTaskDone();
    });
  }
}

bool HttpServer::WaitUntilStopped(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(state_->stop_mu);
  return state_->stop_cv.wait_for(lock, timeout, [this] {
    return state_->live_coroutines.load(std::memory_order_acquire) == 0 &&
           state_->pending_stop_tasks.load(std::memory_order_acquire) == 0;
  });
}

size_t HttpServer::active_connections() const {
  return state_->active_connections.load(std::memory_order_acquire);
}

uint64_t HttpServer::accepted_connections() const {
  return state_->accepted_connections.load(std::memory_order_relaxed);
}

}  // namespace llmesh::http
