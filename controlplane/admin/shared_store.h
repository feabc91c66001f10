// The control plane's one Store, shared by the admin service and (later) the discovery and
// weight loops: every use runs under one mutex, because a Store is a single SQLite connection
// and is not thread-safe (store.h).
//
// Threading: With() may be called from any thread except an event loop that serves requests:
// it blocks on the mutex and on disk I/O. Callers keep the function short (one store call or a
// few); never call With() from inside `f`.
#pragma once

#include <memory>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "controlplane/store/store.h"

namespace llmesh::control {

class SharedStore {
 public:
  explicit SharedStore(std::unique_ptr<Store> store) : store_(std::move(store)) {}
  SharedStore(const SharedStore&) = delete;
  SharedStore& operator=(const SharedStore&) = delete;

  // Runs `f(Store&)` under the mutex and returns what it returns.
  template <typename F>
  auto With(F&& f) {
    absl::MutexLock lock(&mu_);
    return std::forward<F>(f)(*store_);
  }

 private:
  absl::Mutex mu_;
  const std::unique_ptr<Store> store_;
};

}  // namespace llmesh::control
