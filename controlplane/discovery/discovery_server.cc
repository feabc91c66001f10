#include "controlplane/discovery/discovery_server.h"

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "controlplane/discovery/discovery_stream.h"

namespace llmesh::control {

namespace discovery = ::llmesh::discovery::v1;

namespace {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

// gRPC names peers "ipv4:10.0.0.1:5000" or "ipv6:[::1]:5000"; the sidecar list shows "ip:port".
std::string PeerAddress(std::string peer) {
  for (const std::string_view prefix : {std::string_view("ipv4:"), std::string_view("ipv6:")}) {
    if (std::string_view(peer).substr(0, prefix.size()) == prefix)
      return peer.substr(prefix.size());
  }
  return peer;
}

}  // namespace

class DiscoveryServer::Stream final
    : public grpc::ServerBidiReactor<discovery::DiscoveryRequest, discovery::DiscoveryResponse> {
 public:
  Stream(DiscoveryServer& server, std::string peer, bool refuse)
      : server_(server), peer_(std::move(peer)) {
    absl::MutexLock lock(&mu_);
    if (refuse) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "control plane shutting down"));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    if (!ok) {
      // The sidecar closed its side or the call broke; either way the stream is over.
      FinishLocked(grpc::Status::OK);
      return;
    }
    if (finish_requested_) return;
    absl::StatusOr<StreamStep> step = protocol_.OnRequest(request_, server_.source_);
    if (!step.ok()) {
      FinishLocked(ToGrpcStatus(step.status()));
      return;
    }
    if (!handle_.has_value()) handle_ = server_.registry_.Connect(*protocol_.node(), peer_);
    server_.registry_.Record(*handle_, step->event);
    EnqueueLocked(std::move(step->pushes));
    StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    in_flight_.reset();
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
    } else if (finish_requested_) {
      Finish(final_status_);
    } else {
      WriteNextLocked();
    }
  }

  void OnDone() override {
    std::optional<SidecarHandle> handle;
    {
      absl::MutexLock lock(&mu_);
      handle = handle_;
    }
    if (handle.has_value()) server_.registry_.Disconnect(*handle);
    server_.Remove(this);
    delete this;
  }

  // The source changed: push what differs from what the sidecar has. Runs on the notifier.
  void OnResourcesChanged() {
    absl::MutexLock lock(&mu_);
    if (finish_requested_ || !protocol_.node().has_value()) return;
    EnqueueLocked(protocol_.OnResourcesChanged(server_.source_));
  }

  void End(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    FinishLocked(std::move(status));
  }

 private:
  void EnqueueLocked(std::vector<Push> pushes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (Push& push : pushes) {
      // A queued push that was never written is superseded by a newer state of its type; the
      // sidecar never saw its nonce, so dropping it is invisible to the protocol.
      for (auto it = pending_.begin(); it != pending_.end();) {
        it = (*it)->type == push->type ? pending_.erase(it) : it + 1;
      }
      pending_.push_back(std::move(push));
    }
    if (!writing_) WriteNextLocked();
  }

  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (pending_.empty()) return;
    in_flight_ = std::move(pending_.front());
    pending_.pop_front();
    writing_ = true;
    // Shared by every stream and immutable: gRPC serialises it without a copy of the resource.
    StartWrite(&in_flight_->response);
  }

  // gRPC wants no Finish while a write is in flight; OnWriteDone finishes then.
  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finish_requested_) return;
    finish_requested_ = true;
    pending_.clear();
    if (writing_) {
      final_status_ = std::move(status);
    } else {
      Finish(std::move(status));
    }
  }

  DiscoveryServer& server_;
  const std::string peer_;

  absl::Mutex mu_;
  DiscoveryStream protocol_ ABSL_GUARDED_BY(mu_);
  std::optional<SidecarHandle> handle_ ABSL_GUARDED_BY(mu_);
  discovery::DiscoveryRequest request_;
  // Kept alive until OnWriteDone, as StartWrite requires.
  Push in_flight_;
  std::deque<Push> pending_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_requested_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
};

DiscoveryServer::DiscoveryServer(ResourceSource& source, SidecarRegistry& registry)
    : source_(source), registry_(registry) {
  subscription_ = source_.Subscribe([this] { OnSourceChanged(); });
  notifier_ = std::thread([this] { RunNotifier(); });
}

DiscoveryServer::~DiscoveryServer() {
  source_.Unsubscribe(subscription_);
  StopNotifier();
}

grpc::ServerBidiReactor<discovery::DiscoveryRequest, discovery::DiscoveryResponse>*
DiscoveryServer::StreamResources(grpc::CallbackServerContext* context) {
  absl::MutexLock lock(&mu_);
  auto* stream = new Stream(*this, PeerAddress(context->peer()), shutting_down_);
  streams_.insert(stream);
  return stream;
}

void DiscoveryServer::Shutdown() {
  // Joined first: a round in progress finishes its pushes before the streams are ended.
  StopNotifier();
  absl::MutexLock lock(&mu_);
  shutting_down_ = true;
  for (Stream* stream : streams_) {
    stream->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "control plane shutting down"));
  }
}

std::size_t DiscoveryServer::open_streams() const {
  absl::MutexLock lock(&mu_);
  return streams_.size();
}

// Runs on the publisher's thread, under the store's lock: it must stay O(1) in the number of
// streams.
void DiscoveryServer::OnSourceChanged() {
  absl::MutexLock lock(&notify_mu_);
  ++changes_announced_;
}

bool DiscoveryServer::NotifierHasWork() const {
  return notifier_stopping_ || changes_announced_ != changes_pushed_;
}

void DiscoveryServer::RunNotifier() {
  for (;;) {
    {
      absl::MutexLock lock(&notify_mu_);
      notify_mu_.Await(absl::Condition(this, &DiscoveryServer::NotifierHasWork));
      if (notifier_stopping_) return;
      // Every change announced so far is covered by this round: each stream reads the source's
      // current state, which is at least as new as the last announcement.
      changes_pushed_ = changes_announced_;
    }
    // Holding mu_ keeps every stream alive (OnDone removes it under mu_ before deleting it).
    absl::MutexLock lock(&mu_);
    for (Stream* stream : streams_) stream->OnResourcesChanged();
  }
}

void DiscoveryServer::StopNotifier() {
  std::call_once(notifier_joined_, [this] {
    {
      absl::MutexLock lock(&notify_mu_);
      notifier_stopping_ = true;
    }
    notifier_.join();
  });
}

void DiscoveryServer::Remove(Stream* stream) {
  absl::MutexLock lock(&mu_);
  streams_.erase(stream);
}

}  // namespace llmesh::control
