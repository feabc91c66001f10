// Runs one llmeshctl Invocation against the admin API and prints the outcome: tables for
// lists, JSON for `get`, one line per change; errors as "error: <gRPC code>: <message>" (one
// line per problem, so every field path gets its own line).
//
// Not on any request path (operator CLI). Threading: one AdminCommands per thread; every call
// blocks for at most the per-call deadline (10 s).
#pragma once

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "controlplane/ctl/command_line.h"
#include "llmesh/admin/v1/admin.grpc.pb.h"

namespace llmesh::control::ctl {

inline constexpr absl::Duration kCallDeadline = absl::Seconds(10);

class AdminCommands {
 public:
  // `stub`, `out` and `err` must outlive this object. `token` empty: calls carry no
  // authorization metadata (the server then refuses them with UNAUTHENTICATED).
  AdminCommands(llmesh::admin::v1::AdminService::StubInterface& stub, std::string token,
                std::ostream& out, std::ostream& err);

  // Runs `invocation` (not kHelp) and returns the process exit code (ExitCode). Reads FILE
  // for apply commands from this thread.
  int Run(const Invocation& invocation);

 private:
  absl::Status Dispatch(const Invocation& invocation);
  absl::Status ListRoutes();
  absl::Status GetRoute(const std::string& name);
  absl::Status ListProviders();
  absl::Status GetProvider(const std::string& name);
  absl::Status Apply(const Invocation& invocation, bool routes);
  absl::Status Delete(const Invocation& invocation, bool routes);
  absl::Status Sidecars();
  absl::Status Health(const std::string& route);
  absl::Status ListOverrides(const std::string& route);
  absl::Status SetOverride(const Invocation& invocation);
  absl::Status ClearOverride(const Invocation& invocation);

  llmesh::admin::v1::AdminService::StubInterface& stub_;
  const std::string token_;
  std::ostream& out_;
  std::ostream& err_;
};

// Prints `status` to `err` as "error: <CODE>: <line>" for every line of its message.
void PrintError(const absl::Status& status, std::ostream& err);

}  // namespace llmesh::control::ctl
