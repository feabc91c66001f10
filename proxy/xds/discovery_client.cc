#include "proxy/xds/discovery_client.h"

#include <grpcpp/grpcpp.h>

#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl_view.h"
#include "common/log/log.h"
#include "llmesh/discovery/v1/discovery.grpc.pb.h"
#include "proxy/xds/backoff.h"

namespace llmesh::xds {
namespace {

namespace dv1 = llmesh::discovery::v1;

dv1::DiscoveryRequest Ack(const dv1::DiscoveryResponse& push) {
  dv1::DiscoveryRequest ack;
  ack.set_type_url(push.type_url());
  ack.set_version_info(push.version_info());
  ack.set_response_nonce(push.nonce());
  return ack;
}

dv1::DiscoveryRequest Nack(const dv1::DiscoveryResponse& push, const std::string& last_good,
                           const absl::Status& error, std::string_view what) {
  dv1::DiscoveryRequest nack;
  nack.set_type_url(push.type_url());
  nack.set_version_info(last_good);
  nack.set_response_nonce(push.nonce());
  dv1::ErrorDetail& detail = *nack.mutable_error_detail();
  detail.set_code(static_cast<int32_t>(error.code()));
  for (absl::string_view line : absl::StrSplit(error.message(), '\n', absl::SkipEmpty())) {
    detail.add_field_violations(std::string(line));
  }
  const int n = detail.field_violations_size();
  detail.set_message(n > 1 ? absl::StrCat(n, " errors in ", AbslView(what)) : absl::StrCat("invalid ", AbslView(what)));
  Log(log::Level::kWarn, "control-plane push refused",
      {{"type_url", push.type_url()}, {"version", push.version_info()}, {"error", error.message()}});
  return nack;
}

// A fresh channel per stream, with its own subchannels: gRPC's own reconnect back-off (up to
// 120 s) would otherwise delay a stream our back-off already allows.
std::unique_ptr<dv1::DiscoveryService::Stub> NewStub(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return dv1::DiscoveryService::NewStub(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
}

}  // namespace

llmesh::config::v1::Config CombineConfig(const llmesh::config::v1::Config& file,
                                         const dv1::RouteConfiguration& routes) {
  llmesh::config::v1::Config combined = file;
  *combined.mutable_providers() = routes.providers();
  *combined.mutable_routes() = routes.routes();
  return combined;
}

dv1::Node MakeNode(const llmesh::config::v1::ControlPlane& control_plane, const llmesh::config::EnvLookup& env) {
  dv1::Node node;
  node.set_id(control_plane.node_id());
  node.set_pod(env("POD_NAME").value_or(""));
  node.set_namespace_(env("POD_NAMESPACE").value_or(""));
  node.set_proxy_version(LLMESH_PROXY_VERSION);
  return node;
}

DiscoveryClient::DiscoveryClient(DiscoveryClientOptions options, ConfigActivator& activator,
                                 GlobalWeights& weights, const Clock& clock)
    : options_(std::move(options)), activator_(activator), weights_(weights), clock_(clock) {
  stats_.route_version = options_.initial_route_version;
}

DiscoveryClient::~DiscoveryClient() { Stop(); }

void DiscoveryClient::Start() {
  thread_ = std::thread([this] { Run(); });
}

void DiscoveryClient::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

DiscoveryClient::Stats DiscoveryClient::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void DiscoveryClient::Run() {
  absl::BitGen rng;
  uint32_t attempt = 0;
  for (;;) {
    const bool delivered = RunStream();
    // A stream that delivered a push reached a working control plane: start over from 0.5 s.
    attempt = delivered ? 0 : attempt;
    const std::chrono::milliseconds delay = BackoffDelay(attempt, rng);
    if (attempt < 64) ++attempt;
    if (!WaitBeforeReconnect(delay)) return;
  }
}

bool DiscoveryClient::WaitBeforeReconnect(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mu_);
  stop_cv_.wait_for(lock, delay, [this] { return stopping_; });
  return !stopping_;
}

bool DiscoveryClient::RunStream() {
  std::unique_ptr<dv1::DiscoveryService::Stub> stub = NewStub(options_.address);
  grpc::ClientContext context;
  std::string route_version;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    context_ = &context;
    ++stats_.streams_started;
    route_version = stats_.route_version;
  }
  std::unique_ptr<grpc::ClientReaderWriter<dv1::DiscoveryRequest, dv1::DiscoveryResponse>> stream =
      stub->StreamResources(&context);

  dv1::DiscoveryRequest routes;
  *routes.mutable_node() = options_.node;
  routes.set_type_url(kRouteConfigurationTypeUrl);
  routes.set_version_info(route_version);
  // An expired assignment is subscribed with an empty version so the current one is resent.
  dv1::DiscoveryRequest weights;
  weights.set_type_url(kWeightAssignmentTypeUrl);
  if (std::shared_ptr<const AppliedWeights> current = weights_.Current();
      current != nullptr && current->Fresh(clock_.Now())) {
    weights.set_version_info(current->version());
  }
  bool delivered = false;
  bool open = stream->Write(routes) && stream->Write(weights);
  dv1::DiscoveryResponse push;
  while (open && stream->Read(&push)) {
    delivered = true;
    open = stream->Write(HandlePush(push));
  }
  // Finish wants every read done; after a failed write the call is over and reads end at once.
  if (!open) {
    while (stream->Read(&push)) {
    }
  }
  const grpc::Status status = stream->Finish();
  {
    std::lock_guard<std::mutex> lock(mu_);
    context_ = nullptr;
    ++stats_.streams_failed;
    if (stopping_) return delivered;
  }
  Log(log::Level::kWarn, "control-plane stream ended; the current config keeps serving",
      {{"address", options_.address}, {"code", static_cast<int64_t>(status.error_code())},
       {"error", status.error_message()}});
  return delivered;
}

dv1::DiscoveryRequest DiscoveryClient::HandlePush(const dv1::DiscoveryResponse& push) {
  if (push.type_url() == kRouteConfigurationTypeUrl) return HandleRoutes(push);
  if (push.type_url() == kWeightAssignmentTypeUrl) return HandleWeights(push);
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.nacks;
  return Nack(push, "", absl::InvalidArgumentError(absl::StrCat("type_url: unknown type \"", push.type_url(), "\"")),
              "push");
}

dv1::DiscoveryRequest DiscoveryClient::HandleRoutes(const dv1::DiscoveryResponse& push) {
  std::string last_good = stats().route_version;
  absl::Status applied;
  if (push.resources_size() != 1 || !push.resources(0).has_route_configuration()) {
    applied = absl::InvalidArgumentError(
        absl::StrCat("resources: expected exactly one route_configuration, got ", push.resources_size(), " resources"));
  } else {
    applied = activator_.Activate(push.resources(0).route_configuration());
  }
  if (!applied.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.nacks;
    return Nack(push, last_good, applied, "route configuration");
  }
  // Saved before the ACK: the control plane may count on an ACKed version surviving a restart.
  if (!options_.state_dir.empty()) {
    absl::Status saved =
        SaveRouteConfiguration(options_.state_dir, {push.version_info(), push.resources(0).route_configuration()});
    if (!saved.ok()) {
      Log(log::Level::kError, "cannot save the route configuration to state_dir", {{"error", saved.message()}});
    }
  }
  Log(log::Level::kInfo, "route configuration applied", {{"version", push.version_info()}});
  std::lock_guard<std::mutex> lock(mu_);
  stats_.route_version = push.version_info();
  ++stats_.acks;
  return Ack(push);
}

dv1::DiscoveryRequest DiscoveryClient::HandleWeights(const dv1::DiscoveryResponse& push) {
  std::string last_good;
  if (std::shared_ptr<const AppliedWeights> current = weights_.Current(); current != nullptr) {
    last_good = current->version();
  }
  absl::StatusOr<std::shared_ptr<const AppliedWeights>> created =
      push.resources_size() == 1 && push.resources(0).has_weight_assignment()
          ? AppliedWeights::Create(push.resources(0).weight_assignment(), push.version_info(), clock_.Now())
          : absl::InvalidArgumentError(absl::StrCat("resources: expected exactly one weight_assignment, got ",
                                                    push.resources_size(), " resources"));
  std::lock_guard<std::mutex> lock(mu_);
  if (!created.ok()) {
    ++stats_.nacks;
    return Nack(push, last_good, created.status(), "weight assignment");
  }
  weights_.Publish(*std::move(created));
  stats_.weights_version = push.version_info();
  ++stats_.acks;
  return Ack(push);
}

}  // namespace llmesh::xds
