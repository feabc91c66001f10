#include "controlplane/ctl/admin_commands.h"

#include <chrono>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/config/env.h"
#include "common/config/loader.h"
#include "common/config/route_name.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "controlplane/ctl/render.h"
#include "grpcpp/client_context.h"

namespace llmesh::control::ctl {
namespace {

namespace adminpb = llmesh::admin::v1;

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace

void PrintError(const absl::Status& status, std::ostream& err) {
  const std::string code = absl::StatusCodeToString(status.code());
  const absl::string_view message = status.message();
  if (message.empty()) {
    err << "error: " << code << '\n';
    return;
  }
  for (absl::string_view line : absl::StrSplit(message, '\n', absl::SkipEmpty())) {
    err << "error: " << code << ": " << line << '\n';
  }
}

AdminCommands::AdminCommands(adminpb::AdminService::StubInterface& stub, std::string token,
                             std::ostream& out, std::ostream& err)
    : stub_(stub), token_(std::move(token)), out_(out), err_(err) {}

int AdminCommands::Run(const Invocation& invocation) {
  absl::Status status = Dispatch(invocation);
  out_.flush();
  if (status.ok()) return kExitOk;
  PrintError(status, err_);
  return ExitCodeFor(status.code());
}

namespace {

// One ClientContext per call: gRPC forbids reusing one.
std::unique_ptr<grpc::ClientContext> NewContext(const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoMilliseconds(kCallDeadline));
  return context;
}

}  // namespace

absl::Status AdminCommands::Dispatch(const Invocation& invocation) {
  switch (invocation.command) {
    case Command::kHelp:
      out_ << UsageText();
      return absl::OkStatus();
    case Command::kRoutesList: return ListRoutes();
    case Command::kRoutesGet: return GetRoute(invocation.name);
    case Command::kRoutesApply: return Apply(invocation, /*routes=*/true);
    case Command::kRoutesDelete: return Delete(invocation, /*routes=*/true);
    case Command::kProvidersList: return ListProviders();
    case Command::kProvidersGet: return GetProvider(invocation.name);
    case Command::kProvidersApply: return Apply(invocation, /*routes=*/false);
    case Command::kProvidersDelete: return Delete(invocation, /*routes=*/false);
    case Command::kSidecars: return Sidecars();
    case Command::kHealth: return Health(invocation.name);
    case Command::kWeightsList: return ListOverrides(invocation.name);
    case Command::kWeightsOverride:
    case Command::kWeightsDrain: return SetOverride(invocation);
    case Command::kWeightsClear: return ClearOverride(invocation);
  }
  return absl::InternalError("unhandled command");
}

absl::Status AdminCommands::ListRoutes() {
  adminpb::ListRoutesResponse response;
  LLMESH_RETURN_IF_ERROR(FromGrpc(stub_.ListRoutes(NewContext(token_).get(), {}, &response)));
  PrintRoutes(response, out_);
  return absl::OkStatus();
}

absl::Status AdminCommands::GetRoute(const std::string& name) {
  adminpb::GetRouteRequest request;
  request.set_name(name);
  adminpb::StoredRoute response;
  LLMESH_RETURN_IF_ERROR(FromGrpc(stub_.GetRoute(NewContext(token_).get(), request, &response)));
  PrintJson(response, out_);
  return absl::OkStatus();
}

absl::Status AdminCommands::ListProviders() {
  adminpb::ListProvidersResponse response;
  LLMESH_RETURN_IF_ERROR(
      FromGrpc(stub_.ListProviders(NewContext(token_).get(), {}, &response)));
  PrintProviders(response, out_);
  return absl::OkStatus();
}

absl::Status AdminCommands::GetProvider(const std::string& name) {
  adminpb::GetProviderRequest request;
  request.set_name(name);
  adminpb::StoredProvider response;
  LLMESH_RETURN_IF_ERROR(
      FromGrpc(stub_.GetProvider(NewContext(token_).get(), request, &response)));
  PrintJson(response, out_);
  return absl::OkStatus();
}

absl::Status AdminCommands::Apply(const Invocation& invocation, bool routes) {
  // The file goes through the config loader, so it is read exactly as a config file or the
  // bootstrap file would be (schema errors with field paths, `${ENV}` expansion); semantic
  // validation is the server's, against what it stores.
  LLMESH_ASSIGN_OR_RETURN(llmesh::config::v1::Config config,
                          config::LoadConfigFile(invocation.file, config::ProcessEnv()));
  const int count = routes ? config.routes_size() : config.providers_size();
  const int others = routes ? config.providers_size() : config.routes_size();
  const std::string kind = routes ? "route" : "provider";
  if (count == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(invocation.file, ": no ", kind, "s to apply (expected a `", kind, "s:` list)"));
  }
  if (!invocation.etag.empty() && count != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--etag needs exactly one ", kind, " in ", invocation.file, ", found ", count));
  }
  if (others > 0) {
    err_ << "note: " << others << (routes ? " provider(s)" : " route(s)") << " in "
         << invocation.file << " not applied (use `llmeshctl "
         << (routes ? "providers" : "routes") << " apply`)\n";
  }
  std::string version;
  for (int i = 0; i < count; ++i) {
    std::string name, etag;
    bool changed = false;
    grpc::Status status;
    if (routes) {
      adminpb::ApplyRouteRequest request;
      *request.mutable_route() = config.routes(i);
      request.set_etag(invocation.etag);
      request.set_validate_only(invocation.dry_run);
      adminpb::ApplyRouteResponse response;
      name = llmesh::config::RouteName(config.routes(i));
      status = stub_.ApplyRoute(NewContext(token_).get(), request, &response);
      etag = response.route().etag();
      changed = response.changed();
      version = response.route_configuration_version();
    } else {
      adminpb::ApplyProviderRequest request;
      *request.mutable_provider() = config.providers(i);
      request.set_etag(invocation.etag);
      request.set_validate_only(invocation.dry_run);
      adminpb::ApplyProviderResponse response;
      name = config.providers(i).name();
      status = stub_.ApplyProvider(NewContext(token_).get(), request, &response);
      etag = response.provider().etag();
      changed = response.changed();
      version = response.route_configuration_version();
    }
    if (!status.ok()) {
      out_ << kind << "/" << name << ": refused\n";
      return FromGrpc(status);
    }
    out_ << kind << "/" << name << ": ";
    if (invocation.dry_run) {
      out_ << "valid (dry run, nothing stored)\n";
    } else if (changed) {
      out_ << "applied, etag " << etag << '\n';
    } else {
      out_ << "unchanged\n";
    }
  }
  out_ << (invocation.dry_run ? "would be version: " : "version: ") << version << '\n';
  return absl::OkStatus();
}

absl::Status AdminCommands::Delete(const Invocation& invocation, bool routes) {
  adminpb::DeleteResponse response;
  grpc::Status status;
  if (routes) {
    adminpb::DeleteRouteRequest request;
    request.set_name(invocation.name);
    request.set_etag(invocation.etag);
    request.set_validate_only(invocation.dry_run);
    status = stub_.DeleteRoute(NewContext(token_).get(), request, &response);
  } else {
    adminpb::DeleteProviderRequest request;
    request.set_name(invocation.name);
    request.set_etag(invocation.etag);
    request.set_validate_only(invocation.dry_run);
    status = stub_.DeleteProvider(NewContext(token_).get(), request, &response);
  }
  LLMESH_RETURN_IF_ERROR(FromGrpc(status));
  out_ << (routes ? "route/" : "provider/") << invocation.name << ": "
       << (invocation.dry_run ? "can be deleted (dry run, nothing stored)" : "deleted") << '\n';
  out_ << (invocation.dry_run ? "would be version: " : "version: ")
       << response.route_configuration_version() << '\n';
  return absl::OkStatus();
}

absl::Status AdminCommands::Sidecars() {
  adminpb::ListSidecarsResponse response;
  LLMESH_RETURN_IF_ERROR(FromGrpc(stub_.ListSidecars(NewContext(token_).get(), {}, &response)));
  PrintSidecars(response, out_);
  return absl::OkStatus();
}

absl::Status AdminCommands::Health(const std::string& route) {
  adminpb::GetHealthRequest request;
  request.set_route(route);
  adminpb::GetHealthResponse response;
  LLMESH_RETURN_IF_ERROR(FromGrpc(stub_.GetHealth(NewContext(token_).get(), request, &response)));
  PrintHealth(response, out_);
  return absl::OkStatus();
}

absl::Status AdminCommands::ListOverrides(const std::string& route) {
  adminpb::ListWeightOverridesRequest request;
  request.set_route(route);
  adminpb::ListWeightOverridesResponse response;
  LLMESH_RETURN_IF_ERROR(
      FromGrpc(stub_.ListWeightOverrides(NewContext(token_).get(), request, &response)));
  PrintOverrides(response, out_);
  return absl::OkStatus();
}

absl::Status AdminCommands::SetOverride(const Invocation& invocation) {
  adminpb::SetWeightOverrideRequest request;
  request.set_route(invocation.name);
  request.set_provider(invocation.provider);
  request.set_model(invocation.model);
  if (invocation.command == Command::kWeightsDrain) {
    request.set_drain(true);
  } else {
    request.set_weight(invocation.weight);
  }
  *request.mutable_ttl() = DurationProto(invocation.ttl.value_or(absl::ZeroDuration()));
  request.set_comment(invocation.comment);
  adminpb::WeightOverride response;
  LLMESH_RETURN_IF_ERROR(
      FromGrpc(stub_.SetWeightOverride(NewContext(token_).get(), request, &response)));
  out_ << "override " << response.route() << "/" << response.provider() << "/"
       << response.model() << ": " << OverrideAction(response) << " until "
       << FormatTimestamp(response.expire_time()) << '\n';
  return absl::OkStatus();
}

absl::Status AdminCommands::ClearOverride(const Invocation& invocation) {
  adminpb::ClearWeightOverrideRequest request;
  request.set_route(invocation.name);
  request.set_provider(invocation.provider);
  request.set_model(invocation.model);
  adminpb::ClearWeightOverrideResponse response;
  LLMESH_RETURN_IF_ERROR(
      FromGrpc(stub_.ClearWeightOverride(NewContext(token_).get(), request, &response)));
  out_ << "override " << invocation.name << "/" << invocation.provider << "/" << invocation.model
       << ": cleared\n";
  return absl::OkStatus();
}

}  // namespace llmesh::control::ctl
