#include "common/http/io_workers.h"

#include <pthread.h>

#include <algorithm>
#include <string>

namespace llmesh::http {

IoWorkers::IoWorkers(size_t count) {
  count = std::max<size_t>(count, 1);
  contexts_.reserve(count);
  guards_.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    // Concurrency hint 1: each context is run by exactly one thread, so Asio can skip the
    // scheduler's internal locking.
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.emplace_back(boost::asio::make_work_guard(*contexts_.back()));
  }
}

IoWorkers::~IoWorkers() {
  Stop();
  Join();
  guards_.clear();
}

void IoWorkers::Start() {
  if (!threads_.empty()) return;
  threads_.reserve(contexts_.size());
  for (size_t i = 0; i < contexts_.size(); ++i) {
    threads_.emplace_back([this, i] {
      std::string name = "llmesh-w" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      contexts_[i]->run();
    });
  }
}

void IoWorkers::Stop() {
  // io_context::stop is thread-safe; the work guards stay until destruction so Stop may race
  // with itself from several threads.
  for (auto& context : contexts_) context->stop();
}

void IoWorkers::Join() {
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

}  // namespace llmesh::http
