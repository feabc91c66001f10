// llmeshctl: the admin CLI of llmesh-control.
//
//   llmeshctl [--server HOST:PORT] COMMAND [ARGS] [FLAGS]      (llmeshctl --help for all)
//
// One blocking gRPC call per object on the main thread, each with a 10 s deadline; the token
// comes from LLMESH_ADMIN_TOKEN. Exit codes: see command_line.h (ExitCode) and --help.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "controlplane/ctl/admin_commands.h"
#include "controlplane/ctl/command_line.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

int main(int argc, char** argv) {
  namespace ctl = llmesh::control::ctl;
  const std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<ctl::Invocation> invocation = ctl::ParseCommandLine(args);
  if (!invocation.ok()) {
    std::cerr << "llmeshctl: " << invocation.status().message()
              << " (llmeshctl --help for usage)\n";
    return ctl::kExitUsage;
  }
  if (invocation->command == ctl::Command::kHelp) {
    std::cout << ctl::UsageText();
    return ctl::kExitOk;
  }
  const char* token = std::getenv(std::string(ctl::kTokenEnv).c_str());
  auto stub = llmesh::admin::v1::AdminService::NewStub(
      grpc::CreateChannel(invocation->server, grpc::InsecureChannelCredentials()));
  ctl::AdminCommands commands(*stub, token == nullptr ? "" : token, std::cout, std::cerr);
  return commands.Run(*invocation);
}
